package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One entry of the ingest operation log (MongoDB {@code ingest_ops}): a coordinated upload or delete,
 * recorded before its first store write and advanced after each step, so any node can finish or undo
 * it after a crash. {@code leaseOwner}/{@code leaseUntil} say which node is recovering it; {@code
 * incarnation} is the node process working on it now, so that once that process is gone any node
 * recovers the operation at once instead of waiting out the lease. {@code unreadable} names the stored
 * document's first field that holds a value this service never writes (one edited by hand), or is
 * null: such an operation is read as far as it can be ({@link #fromDocument}), its {@code kind} and
 * {@code step} null when those are the fields, and is never acted on ({@link #readable()}).
 */
public record IngestOperation(
        String id,
        Kind kind,
        String tenantId,
        String fileId,
        int partition,
        Step step,
        String name,
        String contentType,
        long size,
        String sha256,
        String idempotencyKey,
        String nodeId,
        String incarnation,
        Instant createdAt,
        Instant updatedAt,
        String leaseOwner,
        Instant leaseUntil,
        String lastError,
        Actor actor,
        Long expectedVersion,
        Instant promisedAt,
        String unreadable) {

    /** The document's field names ({@link #INCARNATION}, {@link #OPEN_FILE} and {@link #LEASE_KEY} below). */
    public static final String ID = "_id";

    public static final String KIND = "kind";
    public static final String TENANT_ID = "tenantId";
    public static final String FILE_ID = "fileId";
    public static final String PARTITION = "partition";
    public static final String STEP = "step";
    public static final String TERMINAL = "terminal";
    public static final String NAME = "name";
    public static final String CONTENT_TYPE = "contentType";
    public static final String SIZE = "size";
    public static final String SHA256 = "sha256";
    public static final String IDEMPOTENCY_KEY = "idempotencyKey";
    public static final String NODE_ID = "nodeId";
    public static final String CREATED_AT = "createdAt";
    public static final String UPDATED_AT = "updatedAt";
    public static final String LEASE_OWNER = "leaseOwner";
    public static final String LEASE_UNTIL = "leaseUntil";
    public static final String LAST_ERROR = "lastError";
    public static final String ACTOR = "actor";
    /**
     * The file version a conditional delete was sent for ({@code If-Match}): whoever takes the
     * delete up again (a retry, recovery) marks the record only while it is still at that version.
     */
    public static final String EXPECTED_VERSION = "expectedVersion";
    /**
     * When the client of an upload was answered 202 {@code completing} with the file's id: from then
     * on recovery rolls the upload forward (its blob is in S3) instead of undoing it. Absent before.
     */
    public static final String PROMISED_AT = "promisedAt";
    /** How many times a recovering node claimed the operation (kept by the log, never read back). */
    public static final String CLAIMS = "claims";

    /** What the operation does. */
    public enum Kind {
        UPLOAD,
        DELETE,
        /** A new version of an existing file's content ({@code PUT /api/files/{id}/content}). */
        REPLACE
    }

    /**
     * The last step completed. Uploads: BEGUN → BLOB_WRITTEN → METADATA_WRITTEN → VECTORS_WRITTEN →
     * COMMITTED → DONE, or ABORTED when undone; only BEGUN, COMMITTED and the ends are written to the
     * log, since recovery undoes an uncommitted upload the same way whichever step it reached (the
     * steps between are what {@code IngestHooks} see). Deletes: BEGUN → METADATA_DELETED → BLOB_DELETED →
     * VECTORS_DELETED → COMMITTED → DONE. New versions: BEGUN → BLOB_WRITTEN (staged content checked,
     * the current content copied to the retention path) → COMMITTED, then rolled forward: VECTORS_WRITTEN
     * (content and points moved to the new version) → METADATA_WRITTEN → DONE; only BEGUN, COMMITTED and
     * the ends are written to the log, recovery undoing an uncommitted one and rolling a committed one
     * forward from what the stores hold.
     */
    public enum Step {
        BEGUN,
        BLOB_WRITTEN,
        METADATA_WRITTEN,
        VECTORS_WRITTEN,
        METADATA_DELETED,
        BLOB_DELETED,
        VECTORS_DELETED,
        COMMITTED,
        DONE,
        ABORTED;

        /** DONE and ABORTED: nothing is left to do. */
        public boolean terminal() {
            return this == DONE || this == ABORTED;
        }
    }

    public IngestOperation {
        Objects.requireNonNull(id, "id");
        if (unreadable == null) {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(step, "step");
        }
        actor = actor == null ? Actor.SYSTEM : actor;
    }

    /** A readable operation, answered 202 {@code completing} at {@code promisedAt} (null: not). */
    public IngestOperation(
            String id,
            Kind kind,
            String tenantId,
            String fileId,
            int partition,
            Step step,
            String name,
            String contentType,
            long size,
            String sha256,
            String idempotencyKey,
            String nodeId,
            String incarnation,
            Instant createdAt,
            Instant updatedAt,
            String leaseOwner,
            Instant leaseUntil,
            String lastError,
            Actor actor,
            Long expectedVersion,
            Instant promisedAt) {
        this(
                id,
                kind,
                tenantId,
                fileId,
                partition,
                step,
                name,
                contentType,
                size,
                sha256,
                idempotencyKey,
                nodeId,
                incarnation,
                createdAt,
                updatedAt,
                leaseOwner,
                leaseUntil,
                lastError,
                actor,
                expectedVersion,
                promisedAt,
                null);
    }

    /** An operation whose client was not (yet) answered 202 {@code completing}. */
    public IngestOperation(
            String id,
            Kind kind,
            String tenantId,
            String fileId,
            int partition,
            Step step,
            String name,
            String contentType,
            long size,
            String sha256,
            String idempotencyKey,
            String nodeId,
            String incarnation,
            Instant createdAt,
            Instant updatedAt,
            String leaseOwner,
            Instant leaseUntil,
            String lastError,
            Actor actor,
            Long expectedVersion) {
        this(
                id,
                kind,
                tenantId,
                fileId,
                partition,
                step,
                name,
                contentType,
                size,
                sha256,
                idempotencyKey,
                nodeId,
                incarnation,
                createdAt,
                updatedAt,
                leaseOwner,
                leaseUntil,
                lastError,
                actor,
                expectedVersion,
                null);
    }

    /** Whether its client was answered 202 {@code completing} ({@link #PROMISED_AT}). */
    public boolean promised() {
        return promisedAt != null;
    }

    /** A new operation at {@link Step#BEGUN}, not yet leased, created now by {@code nodeId} in {@code incarnation}. */
    public static IngestOperation begin(
            String id,
            Kind kind,
            String tenantId,
            String fileId,
            int partition,
            String name,
            String contentType,
            long size,
            String sha256,
            String idempotencyKey,
            String nodeId,
            String incarnation,
            Actor actor) {
        Instant now = Instant.now();
        return new IngestOperation(
                id,
                kind,
                tenantId,
                fileId,
                partition,
                Step.BEGUN,
                name,
                contentType,
                size,
                sha256,
                idempotencyKey,
                nodeId,
                incarnation,
                now,
                now,
                null,
                null,
                null,
                actor,
                null);
    }

    /** The S3 key of the operation's file. */
    public String blobKey() {
        return StoreKeys.blobKey(tenantId, partition, fileId);
    }

    /**
     * Where the receiving node writes the operation's bytes: the file's key for an upload, the staging
     * key of the new version for a replacement (the file's key keeps the current version until it commits).
     */
    public String writeKey() {
        return kind == Kind.REPLACE ? StoreKeys.stagingKey(tenantId, id) : blobKey();
    }

    public IngestOperation withStep(Step next) {
        return with(next, Instant.now(), leaseOwner, leaseUntil, expectedVersion);
    }

    /** This operation leased to {@code owner} until {@code until}. */
    public IngestOperation withLease(String owner, Instant until) {
        return with(step, updatedAt, owner, until, expectedVersion);
    }

    /** This operation, conditioned on the file being at {@code version} (null: unconditional). */
    public IngestOperation expecting(Long version) {
        return with(step, updatedAt, leaseOwner, leaseUntil, version);
    }

    private IngestOperation with(Step nextStep, Instant touched, String owner, Instant until, Long expected) {
        return new IngestOperation(
                id,
                kind,
                tenantId,
                fileId,
                partition,
                nextStep,
                name,
                contentType,
                size,
                sha256,
                idempotencyKey,
                nodeId,
                incarnation,
                createdAt,
                touched,
                owner,
                until,
                lastError,
                actor,
                expected,
                promisedAt,
                unreadable);
    }

    /**
     * This operation, when it can be acted on; one read with a field this service never writes fails
     * with a conflict naming it and the field (a person must correct or remove it in MongoDB).
     */
    public IngestOperation readable() {
        if (unreadable != null) {
            throw unreadableConflict();
        }
        return this;
    }

    /** What acting on this operation, read with {@link #unreadable} set, fails with. */
    public Failure unreadableConflict() {
        return new Failure.Conflict("mongodb", whyUnreadable(), null);
    }

    /** Why this operation cannot be read, in words: it, its file and the field. */
    public String whyUnreadable() {
        return "operation " + id + (fileId == null ? "" : " of file " + fileId) + " cannot be read: its field "
                + unreadable + " holds a value this service never writes; correct or remove it in MongoDB"
                + " (ingest_ops)";
    }

    /** The operation in a few words for a message: "upload {id}", or that it cannot be read and why. */
    public String describe() {
        return unreadable != null
                ? "operation " + id + " (unreadable: its field " + unreadable + ")"
                : kind.name().toLowerCase(java.util.Locale.ROOT) + " " + id;
    }

    public JsonObject toDocument() {
        if (unreadable != null) {
            // Never written back: what could be read is not what the person left.
            throw new IllegalStateException("operation " + id + " was read unreadable (" + unreadable + ")");
        }
        JsonObject doc = new JsonObject()
                .put(ID, id)
                .put(KIND, kind.name())
                .put(TENANT_ID, tenantId)
                .put(FILE_ID, fileId)
                .put(PARTITION, partition)
                .put(STEP, step.name())
                .put(TERMINAL, step.terminal())
                .put(NAME, name)
                .put(CONTENT_TYPE, contentType)
                .put(SIZE, size)
                .put(SHA256, sha256)
                .put(IDEMPOTENCY_KEY, idempotencyKey)
                .put(NODE_ID, nodeId)
                .put(INCARNATION, incarnation)
                .put(CREATED_AT, Dates.toBson(createdAt))
                .put(UPDATED_AT, Dates.toBson(updatedAt))
                .put(LEASE_OWNER, leaseOwner)
                .put(LEASE_UNTIL, Dates.toBson(leaseUntil))
                .put(LAST_ERROR, lastError)
                .put(ACTOR, actor.toJson());
        if (expectedVersion != null) {
            doc.put(EXPECTED_VERSION, expectedVersion);
        }
        if (promisedAt != null) {
            doc.put(PROMISED_AT, Dates.toBson(promisedAt));
        }
        if (!step.terminal()) {
            doc.put(OPEN_FILE, fileId);
            if (leaseOwner != null) {
                doc.put(LEASE_KEY, leaseKey(id, leaseOwner));
            }
        }
        return doc;
    }

    /**
     * The file an unfinished operation works on, under a unique sparse index: absent once it ended.
     * So a file has at most one unfinished operation (a second delete of it conflicts and joins the
     * first), and finding it is one index lookup.
     */
    public static final String OPEN_FILE = "openFile";

    /**
     * The field naming who holds an unfinished operation, {@code "{id} {holder}"}, under a unique
     * sparse index: absent once the operation ended or while nobody holds it. A lease-conditional
     * write looks the operation up by this one field, so it is an index lookup on any MongoDB
     * (the embedded server uses an index only when the query names exactly the indexed fields).
     */
    public static final String LEASE_KEY = "leaseKey";

    /** The field naming the node process (incarnation) working on the operation now. */
    public static final String INCARNATION = "incarnation";

    /** The {@link #LEASE_KEY} of operation {@code id} held by {@code holder}. */
    public static String leaseKey(String id, String holder) {
        return id + " " + holder;
    }

    /**
     * The last of a file's operations {@code ops} (oldest first) that {@code tenantId} made and that
     * was not undone, or null: an undone operation changed nothing, and another tenant's names none of
     * this tenant's content. What the file last became, as the log tells it. When the log cannot tell:
     * an operation that cannot be read ({@link #unreadable}) and may be the tenant's (its tenant is
     * that one or cannot be read), wherever it stands (its date may be what cannot be read), that one
     * is returned: whoever judges from the result must not take a readable one for the last.
     */
    public static IngestOperation lastKept(List<IngestOperation> ops, String tenantId) {
        IngestOperation last = null;
        IngestOperation unknown = null;
        for (IngestOperation op : ops) {
            if (op.unreadable() != null) {
                if (unknown == null && (op.tenantId() == null || tenantId.equals(op.tenantId()))) {
                    unknown = op;
                }
            } else if (op.step() != Step.ABORTED && tenantId.equals(op.tenantId())) {
                last = op;
            }
        }
        return unknown != null ? unknown : last;
    }

    /**
     * Marks {@link #TERMINAL} or {@link #OPEN_FILE} unreadable when they disagree with {@code step} as
     * this service never writes them (edited by hand, say): {@code terminal} is always the step's
     * {@link Step#terminal()}, written with it; {@code openFile} is the operation's file while it is
     * unfinished and absent once it ended, and absent while unfinished only once an upload committed
     * (its commit frees the file, {@code advanceIfHeldReleasingFile}).
     */
    private static void agreeWithStep(StoredFields read, JsonObject d, Kind kind, Step step, String fileId) {
        if (!(d.getValue(TERMINAL) instanceof Boolean terminal) || terminal != step.terminal()) {
            read.unreadable(TERMINAL);
        }
        Object open = d.getValue(OPEN_FILE);
        boolean agrees = step.terminal()
                ? open == null
                : open == null ? step == Step.COMMITTED && kind == Kind.UPLOAD : open.equals(fileId);
        if (!agrees) {
            read.unreadable(OPEN_FILE);
        }
    }

    /**
     * Reads a stored document field by field. One whose field holds a value this service never writes
     * (a {@code kind} or {@code step} none of its names, a {@code size} that is no whole number, a date
     * that is no date, a required field missing, a {@code terminal} or {@code openFile} that disagrees
     * with the step; edited by hand, say) is read as far as it can be, with
     * that field named in {@link #unreadable} (the first one): readers of a file's operations show it
     * as such and judge nothing from it, and nothing acts on it or writes it back.
     */
    public static IngestOperation fromDocument(JsonObject d) {
        StoredFields read = new StoredFields(d, "");
        Object storedId = d.getValue(ID);
        if (!(storedId instanceof String)) {
            read.unreadable(ID);
        }
        Kind kind = read.name(KIND, Kind.class);
        String tenantId = read.text(TENANT_ID, true);
        String fileId = read.text(FILE_ID, true);
        long partition = read.whole(PARTITION, false);
        if (partition > Integer.MAX_VALUE) {
            read.unreadable(PARTITION);
        }
        Step step = read.name(STEP, Step.class);
        if (step != null) {
            agreeWithStep(read, d, kind, step, fileId);
        }
        String name = read.text(NAME, false);
        String contentType = read.text(CONTENT_TYPE, false);
        long size = read.whole(SIZE, false);
        // Any text: it is only ever compared with a hash, which a value never written does not equal.
        String sha256 = read.text(SHA256, false);
        String idempotencyKey = read.text(IDEMPOTENCY_KEY, false);
        String nodeId = read.text(NODE_ID, false);
        String incarnation = read.text(INCARNATION, false);
        Instant createdAt = read.date(CREATED_AT, true);
        Instant updatedAt = read.date(UPDATED_AT, true);
        String leaseOwner = read.text(LEASE_OWNER, false);
        Instant leaseUntil = read.date(LEASE_UNTIL, false);
        String lastError = read.text(LAST_ERROR, false);
        Actor actor = read.object(ACTOR, Actor::fromJson);
        Long expectedVersion = d.getValue(EXPECTED_VERSION) == null ? null : read.whole(EXPECTED_VERSION, true);
        Instant promisedAt = read.date(PROMISED_AT, false);
        return new IngestOperation(
                String.valueOf(storedId),
                kind,
                tenantId,
                fileId,
                partition > Integer.MAX_VALUE ? -1 : (int) partition,
                step,
                name,
                contentType,
                size,
                sha256,
                idempotencyKey,
                nodeId,
                incarnation,
                createdAt,
                updatedAt,
                leaseOwner,
                leaseUntil,
                lastError,
                actor,
                expectedVersion,
                promisedAt,
                read.unreadable());
    }
}
