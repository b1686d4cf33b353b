package io.trisync.store;

import java.util.UUID;

/**
 * One chunk's point in Qdrant: id {@link StoreKeys#chunkPointId}, the vector, and the payload of
 * docs/design.md, "Keys and partitions". Listings leave {@code vector} null.
 */
public record ChunkPoint(
        UUID id,
        String tenantId,
        String fileId,
        int chunk,
        int partition,
        String contentSha256,
        String model,
        float[] vector) {

    /** A point for chunk {@code chunk} of a file, with its derived id. */
    public static ChunkPoint of(
            String tenantId,
            String fileId,
            int chunk,
            int partition,
            String contentSha256,
            String model,
            float[] vector) {
        return new ChunkPoint(
                StoreKeys.chunkPointId(fileId, chunk),
                tenantId,
                fileId,
                chunk,
                partition,
                contentSha256,
                model,
                vector);
    }
}
