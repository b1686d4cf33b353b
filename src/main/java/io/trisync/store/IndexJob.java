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

    /** A new job, due at once. */
    public static IndexJob of(String fileId, String tenantId, int partition, Instant now) {
        return new IndexJob(fileId, tenantId, partition, 0, now, null, null, null, now);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put("_id", fileId)
                .put("tenantId", tenantId)
                .put("partition", partition)
                .put("attempts", attempts)
                .put("nextAttemptAt", Dates.toBson(nextAttemptAt))
                .put("leaseOwner", leaseOwner)
                .put("leaseUntil", Dates.toBson(leaseUntil))
                .put("lastError", lastError)
                .put("createdAt", Dates.toBson(createdAt));
    }

    public static IndexJob fromDocument(JsonObject d) {
        return new IndexJob(
                d.getString("_id"),
                d.getString("tenantId"),
                d.getInteger("partition", 0),
                d.getInteger("attempts", 0),
                Dates.fromBson(d.getValue("nextAttemptAt")),
                d.getString("leaseOwner"),
                Dates.fromBson(d.getValue("leaseUntil")),
                d.getString("lastError"),
                Dates.fromBson(d.getValue("createdAt")));
    }
}
