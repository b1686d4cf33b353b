package io.trisync.embedding;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * all-MiniLM-L6-v2 (quantised, 384 dimensions) run in-process by ONNX Runtime. The model is inside
 * its Maven jar; nothing is downloaded. Loading takes about a second and a half, so one instance is
 * shared per JVM ({@link #shared()}).
 *
 * <p>The ONNX session runs each chunk on one thread ({@code intraOpNumThreads = 1}) and the chunks
 * of a call are spread over one thread per core. The library's own setup lets every inference use
 * all cores while it also runs several inferences at once; on 2 cores that oversubscription costs
 * a quarter of the throughput (alternating runs of 150-word chunks: 49–56 chunks/s with the
 * library's setup, 61–75 with this one; same vectors, cosine 0.9999998; {@code EmbedProbe}).
 */
public final class MiniLmEmbeddingModel implements EmbeddingModel {

    public static final String NAME = TrisyncConfig.EmbeddingConfig.LOCAL_MODEL;
    public static final int DIMENSION = 384;

    private static volatile MiniLmEmbeddingModel shared;

    private final Encoder model = new Encoder(Runtime.getRuntime().availableProcessors());

    private MiniLmEmbeddingModel() {}

    /** The model's jar resources in an ONNX session of our own options, fanned out on our own threads. */
    private static final class Encoder extends AbstractInProcessEmbeddingModel {

        private final OnnxBertBiEncoder encoder;

        Encoder(int threads) {
            super(pool(threads));
            try {
                OrtEnvironment environment = OrtEnvironment.getEnvironment();
                OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                encoder = new OnnxBertBiEncoder(
                        environment,
                        environment.createSession(resource("/all-minilm-l6-v2-q.onnx"), options),
                        AllMiniLmL6V2QuantizedEmbeddingModel.class.getResourceAsStream(
                                "/all-minilm-l6-v2-q-tokenizer.json"),
                        PoolingMode.MEAN);
            } catch (OrtException e) {
                throw new IllegalStateException("cannot load the embedding model: " + e.getMessage(), e);
            }
        }

        private static byte[] resource(String name) {
            try (InputStream in = AllMiniLmL6V2QuantizedEmbeddingModel.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("the embedding model jar has no " + name);
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static ExecutorService pool(int threads) {
            AtomicInteger n = new AtomicInteger();
            return Executors.newFixedThreadPool(threads, task -> {
                Thread t = new Thread(task, "trisync-onnx-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        protected OnnxBertBiEncoder model() {
            return encoder;
        }

        @Override
        protected Integer knownDimension() {
            return DIMENSION;
        }
    }

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
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String text : texts) {
            if (!Chunker.readable(text)) {
                // The library refuses a text its tokenizer makes no token of (IllegalArgumentException,
                // which reads as a bug); callers leave such texts out, this names it if one comes.
                throw new Failure.BadRequest("the embedding model finds nothing to read in the text (only spaces,"
                        + " control, formatting or combining characters)");
            }
            segments.add(TextSegment.from(text));
        }
        return model.embedAll(segments).content().stream().map(e -> e.vector()).toList();
    }
}
