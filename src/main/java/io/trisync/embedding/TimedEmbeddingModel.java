package io.trisync.embedding;

import io.trisync.metrics.Metrics;
import java.util.List;

/** A model whose every call is counted and timed ({@code trisync_embedding_chunks_total}, {@code _duration_seconds}). */
public final class TimedEmbeddingModel implements EmbeddingModel {

    private final EmbeddingModel model;
    private final Metrics metrics;

    public TimedEmbeddingModel(EmbeddingModel model, Metrics metrics) {
        this.model = model;
        this.metrics = metrics;
    }

    @Override
    public String name() {
        return model.name();
    }

    @Override
    public int dimension() {
        return model.dimension();
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        long started = System.nanoTime();
        boolean failed = true;
        try {
            List<float[]> vectors = model.embed(texts);
            failed = false;
            return vectors;
        } finally {
            metrics.embedded(texts.size(), System.nanoTime() - started, failed);
        }
    }
}
