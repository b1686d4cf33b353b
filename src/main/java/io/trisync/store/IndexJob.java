package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A file whose vectors are still to be made: its blob and metadata are committed, the embedding
 * service was unavailable when it was uploaded. Kept in MongoDB ({@code index_jobs}, one per file)
 * until its vectors are written or its indexing fails for good; any ingest node takes a due job
 * under a lease and, when the service still fails, sets it back with a later {@code nextAttemptAt}.
 */
public record IndexJob(
        String fileId,
        String tenantId,
        int partition,
        int attempts,
        Instant nextAttemptAt,
        String leaseOwner,
        Instant leaseUntil,
        String lastError,
        Instant createdAt) {

    /** The document's field names ({@code _id} is the file id). */
    public static final String ID = "_id";

    public static final String TENANT_ID = "tenantId";
    public static final String PARTITION = "partition";
    public static final String ATTEMPTS = "attempts";
    public static final String NEXT_ATTEMPT_AT = "nextAttemptAt";
    public static final String LEASE_OWNER = "leaseOwner";
    public static final String LEASE_UNTIL = "leaseUntil";
    public static final String LAST_ERROR = "lastError";
    public static final String CREATED_AT = "createdAt";

    /** A new job, due at once. */
    public static IndexJob of(String fileId, String tenantId, int partition, Instant now) {
        return new IndexJob(fileId, tenantId, partition, 0, now, null, null, null, now);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put(ID, fileId)
                .put(TENANT_ID, tenantId)
                .put(PARTITION, partition)
                .put(ATTEMPTS, attempts)
                .put(NEXT_ATTEMPT_AT, Dates.toBson(nextAttemptAt))
                .put(LEASE_OWNER, leaseOwner)
                .put(LEASE_UNTIL, Dates.toBson(leaseUntil))
                .put(LAST_ERROR, lastError)
                .put(CREATED_AT, Dates.toBson(createdAt));
    }

    public static IndexJob fromDocument(JsonObject d) {
        return new IndexJob(
                d.getString(ID),
                d.getString(TENANT_ID),
                d.getInteger(PARTITION, 0),
                d.getInteger(ATTEMPTS, 0),
                Dates.fromBson(d.getValue(NEXT_ATTEMPT_AT)),
                d.getString(LEASE_OWNER),
                Dates.fromBson(d.getValue(LEASE_UNTIL)),
                d.getString(LAST_ERROR),
                Dates.fromBson(d.getValue(CREATED_AT)));
    }
}
