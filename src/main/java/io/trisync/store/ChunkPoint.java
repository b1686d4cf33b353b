package io.trisync.store;

import java.util.UUID;

/**
 * One chunk's point in Qdrant: id {@link StoreKeys#chunkPointId}, the vector, and the payload of
 * docs/design.md, "Keys and partitions", with the chunk's {@code text} (shown by search; null when
 * not read or not stored). Listings leave {@code vector} and {@code text} null.
 */
public record ChunkPoint(
        UUID id,
        String tenantId,
        String fileId,
        int chunk,
        int partition,
        String contentSha256,
        String model,
        float[] vector,
        String text) {

    /** A point without its text (listings, and points written before texts were kept). */
    public ChunkPoint(
            UUID id,
            String tenantId,
            String fileId,
            int chunk,
            int partition,
            String contentSha256,
            String model,
            float[] vector) {
        this(id, tenantId, fileId, chunk, partition, contentSha256, model, vector, null);
    }

    /** A point for chunk {@code chunk} of a file, with its derived id. */
    public static ChunkPoint of(
            String tenantId,
            String fileId,
            int chunk,
            int partition,
            String contentSha256,
            String model,
            float[] vector) {
        return of(tenantId, fileId, chunk, partition, contentSha256, model, vector, null);
    }

    /** A point for chunk {@code chunk} of a file, with its derived id and the chunk's text. */
    public static ChunkPoint of(
            String tenantId,
            String fileId,
            int chunk,
            int partition,
            String contentSha256,
            String model,
            float[] vector,
            String text) {
        return new ChunkPoint(
                StoreKeys.chunkPointId(fileId, chunk),
                tenantId,
                fileId,
                chunk,
                partition,
                contentSha256,
                model,
                vector,
                text);
    }
}
