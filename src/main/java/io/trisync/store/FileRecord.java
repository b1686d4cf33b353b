package io.trisync.store;

import io.trisync.failure.Failure;
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
 * #contentVersions}). {@code unreadable} names the stored document's first field that holds a value
 * this service never writes (set by hand, say), null when there is none; the record's status is then
 * {@link Status#UNREADABLE} (see {@link #fromDocument(JsonObject, int)}).
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
        List<ContentVersion> history,
        String unreadable) {

    /** The document's field names (its {@code _id} is the file id). */
    public static final String ID = "_id";

    public static final String TENANT_ID = "tenantId";
    public static final String NAME = "name";
    public static final String CONTENT_TYPE = "contentType";
    public static final String SIZE = "size";
    public static final String SHA256 = "sha256";
    public static final String STATUS = "status";
    public static final String VERSION = "version";
    public static final String PARTITION = "partition";
    public static final String EMBEDDING = "embedding";
    public static final String CREATED_AT = "createdAt";
    public static final String UPDATED_AT = "updatedAt";
    public static final String SYNC = "sync";
    public static final String BLOB_ETAG = "blobEtag";
    public static final String LABELS = "labels";
    /** The document field holding {@link #history}. */
    public static final String HISTORY = "history";

    /** Dotted paths into {@link #EMBEDDING} and {@link #SYNC}, for queries and updates. */
    public static final String EMBEDDING_MODEL = EMBEDDING + "." + Embedding.MODEL;

    public static final String EMBEDDING_DIMS = EMBEDDING + "." + Embedding.DIMS;
    public static final String EMBEDDING_CHUNKS = EMBEDDING + "." + Embedding.CHUNKS;
    public static final String EMBEDDING_CONTENT_SHA256 = EMBEDDING + "." + Embedding.CONTENT_SHA256;
    public static final String EMBEDDING_FAILURE = EMBEDDING + "." + Embedding.FAILURE;
    public static final String EMBEDDING_PENDING = EMBEDDING + "." + Embedding.PENDING;
    public static final String SYNC_VERDICT = SYNC + "." + SyncVerdict.VERDICT;

    /** The dotted path of field {@code field} of the {@link #SYNC} document ({@link SyncVerdict}'s names). */
    public static String syncField(String field) {
        return SYNC + "." + field;
    }

    /** A record read whole (the only kind this service writes). */
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
            JsonObject labels,
            List<ContentVersion> history) {
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
                history,
                null);
    }

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

    /**
     * Lifecycle of a file's metadata. {@link #UNREADABLE} is never written: it is how a record whose
     * {@code status} is none this service writes (set by hand, say) is read, so a scan can report it
     * ({@code UNREADABLE_RECORD}) and every other reader leave it alone.
     */
    public enum Status {
        ACTIVE("active"),
        DELETED("deleted"),
        UNREADABLE("unreadable");

        private final String wire;

        Status(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static Status fromWire(String value) {
            for (Status s : values()) {
                if (s != UNREADABLE && s.wire.equals(value)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown file status: " + value);
        }

        /** A stored record's status: absent is active (records older than the field), any other value unreadable. */
        static Status read(Object value) {
            if (value == null) {
                return ACTIVE;
            }
            for (Status s : values()) {
                if (s != UNREADABLE && s.wire.equals(value)) {
                    return s;
                }
            }
            return UNREADABLE;
        }
    }

    /**
     * This record, when it can be acted on; a record read as {@link Status#UNREADABLE} fails with a
     * conflict naming it (a person must correct it in MongoDB; nothing here writes it back).
     */
    public FileRecord readable() {
        if (status == Status.UNREADABLE) {
            throw unreadableConflict();
        }
        return this;
    }

    /** What acting on this record, read as {@link Status#UNREADABLE}, fails with: a conflict naming it and its field. */
    public Failure unreadableConflict() {
        return new Failure.Conflict(
                "mongodb",
                "the record of file " + id + " cannot be read: its field " + unreadable + " holds "
                        + (STATUS.equals(unreadable) ? "none of active, deleted" : "a value this service never writes")
                        + "; correct it in MongoDB (a scan reports it as UNREADABLE_RECORD)",
                null);
    }

    /**
     * How a file's vectors were made: model, dimension, chunk count and the content they came from.
     * {@code failure} is why its text could not be extracted (then it has zero chunks and is not
     * searchable), null when extraction succeeded or the file has no text to extract.
     */
    public record Embedding(String model, int dims, int chunks, String contentSha256, String failure, boolean pending) {

        public static final String MODEL = "model";
        public static final String DIMS = "dims";
        public static final String CHUNKS = "chunks";
        public static final String CONTENT_SHA256 = "contentSha256";
        public static final String FAILURE = "failure";
        public static final String PENDING = "pending";

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
        public static JsonObject indexedFields(String model, int dims, int chunks, String contentSha256) {
            return new JsonObject()
                    .put(EMBEDDING_MODEL, model)
                    .put(EMBEDDING_DIMS, dims)
                    .put(EMBEDDING_CHUNKS, chunks)
                    .put(EMBEDDING_CONTENT_SHA256, contentSha256)
                    .put(EMBEDDING_PENDING, false)
                    .putNull(EMBEDDING_FAILURE);
        }

        /** {@code pending}, {@code failed} or {@code indexed}. */
        public String state() {
            return pending ? "pending" : failure != null ? "failed" : "indexed";
        }

        JsonObject toJson() {
            JsonObject json = new JsonObject()
                    .put(MODEL, model)
                    .put(DIMS, dims)
                    .put(CHUNKS, chunks)
                    .put(CONTENT_SHA256, contentSha256);
            if (failure != null) {
                json.put(FAILURE, failure);
            }
            if (pending) {
                json.put(PENDING, true);
            }
            return json;
        }

        static Embedding fromJson(StoredFields json) {
            return new Embedding(
                    json.text(MODEL, false),
                    (int) json.whole(DIMS, false),
                    (int) json.whole(CHUNKS, false),
                    json.text(CONTENT_SHA256, false),
                    json.text(FAILURE, false),
                    json.flag(PENDING));
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
        // The stored document is left as a person will find it: never overwritten from a reading of it.
        readable();
        JsonObject doc = new JsonObject()
                .put(ID, id)
                .put(TENANT_ID, tenantId)
                .put(NAME, name)
                .put(CONTENT_TYPE, contentType)
                .put(SIZE, size)
                .put(SHA256, sha256)
                .put(STATUS, status.wire())
                .put(VERSION, version)
                .put(PARTITION, partition)
                .put(CREATED_AT, Dates.toBson(createdAt))
                .put(UPDATED_AT, Dates.toBson(updatedAt));
        if (embedding != null) {
            doc.put(EMBEDDING, embedding.toJson());
        }
        if (sync != null) {
            doc.put(SYNC, sync.toDocument());
        }
        if (blobEtag != null) {
            doc.put(BLOB_ETAG, blobEtag);
        }
        if (labels != null) {
            doc.put(LABELS, labels);
        }
        if (!history.isEmpty()) {
            doc.put(HISTORY, ContentVersion.toDocuments(history));
        }
        return doc;
    }

    /** The {@code sync} document as the scans and repairs write it (a value they never write named). */
    private static SyncVerdict syncOf(StoredFields sync) {
        return new SyncVerdict(
                sync.text(SyncVerdict.VERDICT, false),
                sync.strings(SyncVerdict.ISSUES),
                sync.instantText(SyncVerdict.CHECKED_AT),
                sync.text(SyncVerdict.OP_ID, false),
                sync.nested(
                        SyncVerdict.ATTENTION,
                        attention -> new SyncVerdict.Attention(
                                attention.text(SyncVerdict.Attention.REASON, false),
                                attention.strings(SyncVerdict.ISSUES),
                                attention.instantText(SyncVerdict.Attention.AT),
                                attention.text(SyncVerdict.OP_ID, false))));
    }

    /**
     * Whether the scans and repairs may write this record's {@code sync} verdict: not when the record
     * cannot be read for its {@code sync} itself (a {@code $set} into a {@code sync} that is no document
     * fails, and nothing writes over what a person will look at).
     */
    public boolean verdictWritable() {
        return unreadable == null || !(unreadable.equals(SYNC) || unreadable.startsWith(SYNC + "."));
    }

    /**
     * Whether this record is the one of {@code tenant}'s file of its id, as found by that id under the
     * tenant's keys: its tenant is {@code tenant}, or cannot be read (a {@code tenantId} removed by
     * hand: the record is still that file's, and must be reported as unreadable, not its blob and
     * points as orphans).
     */
    public boolean of(String tenant) {
        return tenantId.equals(tenant) || tenantId.isEmpty();
    }

    /** Reads a stored document ({@link #fromDocument(JsonObject, int)}) without checking its partition. */
    public static FileRecord fromDocument(JsonObject doc) {
        return fromDocument(doc, 0);
    }

    /**
     * Reads a stored document. A document whose field holds a value this service never writes (a
     * {@code size} that is no whole number, a {@code sha256} that is no SHA-256, a {@code partition}
     * other than the one its id falls in among {@code partitions} (0: not checked), a date that is no
     * date; one edited by hand, say) is read as far as it can be, with status {@link Status#UNREADABLE}
     * and that field named in {@link #unreadable}: a scan reports it, every reader leaves it alone, and
     * nothing writes it back ({@link #toDocument} refuses it). A record no reader could act on must not
     * fail every listing, scan and search of its tenant. A {@code partition} that is missing, negative
     * or not among {@code partitions} reads as -1.
     */
    public static FileRecord fromDocument(JsonObject doc, int partitions) {
        StoredFields read = new StoredFields(doc, "");
        Status status = Status.read(doc.getValue(STATUS));
        if (status == Status.UNREADABLE) {
            read.unreadable(STATUS);
        }
        String tenantId = read.text(TENANT_ID, true);
        long size = read.whole(SIZE, true);
        String sha256 = read.sha256(SHA256);
        long version = read.whole(VERSION, false);
        long storedPartition = read.whole(PARTITION, true);
        if (storedPartition > Integer.MAX_VALUE) {
            read.unreadable(PARTITION);
        }
        int partition = storedPartition > Integer.MAX_VALUE ? -1 : (int) storedPartition;
        if (partition >= 0 && partitions > 0 && StoreKeys.partition(doc.getString(ID), partitions) != partition) {
            // Its blob and points are under another partition's keys: no reader would find them.
            read.unreadable(PARTITION);
        }
        if (partitions > 0 && partition >= partitions) {
            partition = -1;
        }
        Embedding embedding = read.nested(EMBEDDING, Embedding::fromJson);
        Instant createdAt = read.date(CREATED_AT);
        Instant updatedAt = read.date(UPDATED_AT);
        SyncVerdict sync = read.nested(SYNC, FileRecord::syncOf);
        String blobEtag = read.text(BLOB_ETAG, false);
        JsonObject labels = read.object(LABELS, json -> json);
        List<ContentVersion> history = read.array(HISTORY, ContentVersion::fromDocuments);
        return new FileRecord(
                doc.getString(ID),
                tenantId == null ? "" : tenantId,
                doc.getValue(NAME) == null ? null : doc.getValue(NAME).toString(),
                doc.getValue(CONTENT_TYPE) == null
                        ? null
                        : doc.getValue(CONTENT_TYPE).toString(),
                size,
                sha256,
                read.unreadable() == null ? status : Status.UNREADABLE,
                version,
                partition,
                embedding,
                createdAt,
                updatedAt,
                sync,
                blobEtag,
                labels,
                history,
                read.unreadable());
    }
}
