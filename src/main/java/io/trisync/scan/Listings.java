package io.trisync.scan;

import java.util.List;

/**
 * What each store holds for one (tenant, partition), as the reconciliation engine reads it. Plain
 * data: no store types, so the engine is tested without a server.
 */
public final class Listings {

    private Listings() {}

    /**
     * A metadata record: {@code chunks} and {@code contentSha256}/{@code model} describe its vectors;
     * {@code attention} is the reason a repair left it to a person (null: none); {@code
     * embeddingFailure} is why its text could not be extracted at ingest (null: none); {@code
     * indexing} is {@link #PENDING} while its vectors wait in the index queue, {@link #LOST} when the
     * record says they are pending but no queue entry makes them, null otherwise.
     */
    public record Meta(
            String fileId,
            String name,
            boolean deleted,
            long size,
            String sha256,
            int chunks,
            String contentSha256,
            String model,
            String attention,
            String embeddingFailure,
            String indexing) {

        public static final String PENDING = "pending";
        public static final String LOST = "lost";

        public Meta(
                String fileId,
                String name,
                boolean deleted,
                long size,
                String sha256,
                int chunks,
                String contentSha256,
                String model,
                String attention,
                String embeddingFailure) {
            this(fileId, name, deleted, size, sha256, chunks, contentSha256, model, attention, embeddingFailure, null);
        }

        public Meta(
                String fileId,
                String name,
                boolean deleted,
                long size,
                String sha256,
                int chunks,
                String contentSha256,
                String model) {
            this(fileId, name, deleted, size, sha256, chunks, contentSha256, model, null, null, null);
        }
    }

    /** An S3 object of the partition; {@code sha256} from its metadata (or recomputed in a deep scan), may be null. */
    public record Blob(String fileId, long size, String sha256) {}

    /** A Qdrant point of the partition. */
    public record Point(String fileId, int chunk, String contentSha256, String model) {}

    /** The three listings of one partition. */
    public record Partition(List<Meta> metadata, List<Blob> blobs, List<Point> points) {}
}
