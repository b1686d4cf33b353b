package io.trisync.embedding;

import io.trisync.failure.Failure;
import io.trisync.store.ChunkPoint;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes to chunk points: extract text, split into chunks, embed each. Used by uploads and by
 * repairs that re-embed a file. A file whose text extraction fails gets no points and the reason,
 * which the caller records instead of calling the file synced. Blocking: run on a worker.
 */
public final class ContentIndexer {

    /** The file the content belongs to, as its points record it. */
    public record Target(
            String tenantId, String fileId, int partition, String sha256, String contentType, String name) {}

    /** The points of a file's content, or why its text could not be extracted ({@code failure}, then no points). */
    public record Indexed(List<ChunkPoint> points, String failure) {

        public Indexed {
            points = List.copyOf(points);
        }

        public boolean failed() {
            return failure != null;
        }
    }

    private final TextExtractor extractor = new TextExtractor();
    private final Chunker chunker = new Chunker();
    private final EmbeddingModel model;

    public ContentIndexer(EmbeddingModel model) {
        this.model = model;
    }

    public String modelName() {
        return model.name();
    }

    public int dimension() {
        return model.dimension();
    }

    /**
     * One point per chunk of the file's text (none when it has no text to extract), or no points and
     * the reason when its extraction failed.
     */
    public Indexed index(byte[] content, Target target) {
        TextExtractor.Extraction extraction = extractor.extract(content, target.contentType(), target.name());
        if (extraction.failed()) {
            return new Indexed(List.of(), extraction.failure());
        }
        List<String> chunks = chunker.chunk(extraction.text());
        List<float[]> vectors;
        try {
            vectors = model.embed(chunks);
        } catch (Failure.BadRequest refused) {
            // The provider refused this content for good: kept without search, like unreadable text.
            return new Indexed(List.of(), refused.getMessage());
        }
        List<ChunkPoint> points = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            points.add(ChunkPoint.of(
                    target.tenantId(),
                    target.fileId(),
                    i,
                    target.partition(),
                    target.sha256(),
                    model.name(),
                    vectors.get(i)));
        }
        return new Indexed(points, null);
    }
}
