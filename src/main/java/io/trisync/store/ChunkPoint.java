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

    /** Payload field: the tenant that owns the file. */
    public static final String TENANT_ID = "tenant_id";
    /** Payload field: the file the chunk belongs to. */
    public static final String FILE_ID = "file_id";
    /** Payload field: the chunk's index within the file. */
    public static final String CHUNK = "chunk";
    /** Payload field: the file's partition. */
    public static final String PARTITION = "partition";
    /** Payload field: the sha256 of the content the vector was made from. */
    public static final String CONTENT_SHA256 = "content_sha256";
    /** Payload field: the model ({@code name@dims}) that made the vector. */
    public static final String MODEL = "model";
    /** Payload field: the chunk's text, read by search only, never by the scans' listings. */
    public static final String TEXT = "text";

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
