package io.trisync.embedding;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.List;

/**
 * all-MiniLM-L6-v2 (quantised, 384 dimensions) run in-process by ONNX Runtime. The model is inside
 * its Maven jar; nothing is downloaded. Loading takes about a second and a half, so one instance is
 * shared per JVM ({@link #shared()}).
 */
public final class MiniLmEmbeddingModel implements EmbeddingModel {

    public static final String NAME = "all-minilm-l6-v2-q";
    public static final int DIMENSION = 384;

    private static volatile MiniLmEmbeddingModel shared;

    private final AllMiniLmL6V2QuantizedEmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();

    private MiniLmEmbeddingModel() {}

    /** The JVM's instance, loaded on first use. */
    public static MiniLmEmbeddingModel shared() {
        MiniLmEmbeddingModel m = shared;
        if (m == null) {
            synchronized (MiniLmEmbeddingModel.class) {
                if (shared == null) {
                    shared = new MiniLmEmbeddingModel();
                }
                m = shared;
            }
        }
        return m;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
        return model.embedAll(segments).content().stream().map(e -> e.vector()).toList();
    }
}
