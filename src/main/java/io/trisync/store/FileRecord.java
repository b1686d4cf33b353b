package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One file's metadata document in MongoDB {@code files} (docs/design.md, "Keys and partitions"). {@code sync} is the last
 * scan verdict, or null before the first scan. {@code blobEtag} is the ETag S3 gave the blob when it
 * was written (null when unknown): a scan compares it with the listing's ETag, so it reads an
 * object's metadata only when its content may have changed. {@code history} lists the content
 * versions, newest first, once the file was given a new version (empty before: see {@link
 * #contentVersions}).
 */
public record FileRecord(
        String id,
        String tenantId,
        String name,
        String contentType,
        long size,
        String sha256,
        Status status,
        long version,
        int partition,
        Embedding embedding,
        Instant createdAt,
        Instant updatedAt,
        SyncVerdict sync,
        String blobEtag,
        JsonObject labels,
        List<ContentVersion> history) {

    /** A record without a content history (never given a new version). */
    public FileRecord(
            String id,
            String tenantId,
            String name,
            String contentType,
            long size,
            String sha256,
            Status status,
            long version,
            int partition,
            Embedding embedding,
            Instant createdAt,
            Instant updatedAt,
            SyncVerdict sync,
            String blobEtag,
            JsonObject labels) {
        this(
                id,
                tenantId,
                name,
                contentType,
                size,
                sha256,
                status,
                version,
                partition,
                embedding,
                createdAt,
                updatedAt,
                sync,
                blobEtag,
                labels,
                List.of());
    }

    /**
     * The versions of the file's content, newest (the current one) first. A file never given a new
     * version has one: its upload, version 1 (the record's version counts metadata edits too).
     */
    public List<ContentVersion> contentVersions() {
        if (!history.isEmpty()) {
            return history;
        }
        return List.of(new ContentVersion(1, sha256, size, contentType, createdAt, null, true, null));
    }

    /** The version number of the current content. */
    public long contentVersion() {
        return contentVersions().get(0).version();
    }

    /** A record without labels. */
    public FileRecord(
            String id,
            String tenantId,
            String name,
            String contentType,
            long size,
            String sha256,
            Status status,
            long version,
            int partition,
            Embedding embedding,
            Instant createdAt,
            Instant updatedAt,
            SyncVerdict sync,
            String blobEtag) {
        this(
                id,
                tenantId,
                name,
                contentType,
                size,
                sha256,
                status,
                version,
                partition,
                embedding,
                createdAt,
                updatedAt,
                sync,
                blobEtag,
                null);
    }

    /** Lifecycle of a file's metadata. */
    public enum Status {
        ACTIVE("active"),
        DELETED("deleted");

        private final String wire;

        Status(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static Status fromWire(String value) {
            for (Status s : values()) {
                if (s.wire.equals(value)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown file status: " + value);
        }
    }

    /**
     * How a file's vectors were made: model, dimension, chunk count and the content they came from.
     * {@code failure} is why its text could not be extracted (then it has zero chunks and is not
     * searchable), null when extraction succeeded or the file has no text to extract.
     */
    public record Embedding(String model, int dims, int chunks, String contentSha256, String failure, boolean pending) {

        /** Vectors made without an extraction failure. */
        public Embedding(String model, int dims, int chunks, String contentSha256) {
            this(model, dims, chunks, contentSha256, null, false);
        }

        /** Vectors made, or (with {@code failure}) none because the text could not be extracted. */
        public Embedding(String model, int dims, int chunks, String contentSha256, String failure) {
            this(model, dims, chunks, contentSha256, failure, false);
        }

        /** No vectors yet: the embedding service was unavailable; a queued job makes them later. */
        public static Embedding pending(String model, int dims) {
            return new Embedding(model, dims, 0, null, null, true);
        }

        /**
         * The {@code $set} that records vectors just made ({@code chunks} of {@code contentSha256} by
         * {@code model}) on a stored record: no longer pending, no failure.
         */
        public static io.vertx.core.json.JsonObject indexedFields(
                String model, int dims, int chunks, String contentSha256) {
            return new io.vertx.core.json.JsonObject()
                    .put("embedding.model", model)
                    .put("embedding.dims", dims)
                    .put("embedding.chunks", chunks)
                    .put("embedding.contentSha256", contentSha256)
                    .put("embedding.pending", false)
                    .putNull("embedding.failure");
        }

        /** {@code pending}, {@code failed} or {@code indexed}. */
        public String state() {
            return pending ? "pending" : failure != null ? "failed" : "indexed";
        }

        JsonObject toJson() {
            JsonObject json = new JsonObject()
                    .put("model", model)
                    .put("dims", dims)
                    .put("chunks", chunks)
                    .put("contentSha256", contentSha256);
            if (failure != null) {
                json.put("failure", failure);
            }
            if (pending) {
                json.put("pending", true);
            }
            return json;
        }

        static Embedding fromJson(JsonObject json) {
            return json == null
                    ? null
                    : new Embedding(
                            json.getString("model"),
                            json.getInteger("dims", 0),
                            json.getInteger("chunks", 0),
                            json.getString("contentSha256"),
                            json.getString("failure"),
                            json.getBoolean("pending", false));
        }
    }

    /** A record whose blob's ETag is not known (scans then read the blob's sha256 metadata instead). */
    public FileRecord(
            String id,
            String tenantId,
            String name,
            String contentType,
            long size,
            String sha256,
            Status status,
            long version,
            int partition,
            Embedding embedding,
            Instant createdAt,
            Instant updatedAt,
            SyncVerdict sync) {
        this(
                id,
                tenantId,
                name,
                contentType,
                size,
                sha256,
                status,
                version,
                partition,
                embedding,
                createdAt,
                updatedAt,
                sync,
                null);
    }

    public FileRecord {
        history = history == null ? List.of() : List.copyOf(history);
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(status, "status");
    }

    /** The MongoDB document ({@code _id} is the file id; dates as BSON dates). */
    public JsonObject toDocument() {
        JsonObject doc = new JsonObject()
                .put("_id", id)
                .put("tenantId", tenantId)
                .put("name", name)
                .put("contentType", contentType)
                .put("size", size)
                .put("sha256", sha256)
                .put("status", status.wire())
                .put("version", version)
                .put("partition", partition)
                .put("createdAt", Dates.toBson(createdAt))
                .put("updatedAt", Dates.toBson(updatedAt));
        if (embedding != null) {
            doc.put("embedding", embedding.toJson());
        }
        if (sync != null) {
            doc.put("sync", sync.toDocument());
        }
        if (blobEtag != null) {
            doc.put("blobEtag", blobEtag);
        }
        if (labels != null) {
            doc.put("labels", labels);
        }
        if (!history.isEmpty()) {
            doc.put(HISTORY, ContentVersion.toDocuments(history));
        }
        return doc;
    }

    /** Reads a document written by {@link #toDocument()}. */
    public static FileRecord fromDocument(JsonObject doc) {
        return new FileRecord(
                doc.getString("_id"),
                doc.getString("tenantId"),
                doc.getString("name"),
                doc.getString("contentType"),
                doc.getLong("size", 0L),
                doc.getString("sha256"),
                Status.fromWire(doc.getString("status", "active")),
                doc.getLong("version", 0L),
                doc.getInteger("partition", 0),
                Embedding.fromJson(doc.getJsonObject("embedding")),
                Dates.fromBson(doc.getValue("createdAt")),
                Dates.fromBson(doc.getValue("updatedAt")),
                SyncVerdict.fromDocument(doc.getJsonObject("sync")),
                doc.getString("blobEtag"),
                doc.getJsonObject("labels"),
                ContentVersion.fromDocuments(doc.getJsonArray(HISTORY)));
    }

    /** The document field holding {@link #history}. */
    public static final String HISTORY = "history";
}
