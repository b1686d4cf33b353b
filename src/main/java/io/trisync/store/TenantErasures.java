package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;

/**
 * Erasing a tenant: the marker that stops its writes while the erasure runs (and says how it ended),
 * and the removal of everything trisync keeps about it in MongoDB. The blobs and points are removed
 * through {@link BlobStore} and {@link VectorStore}.
 */
public interface TenantErasures {

    /** An erasure: {@code state} erasing or erased, the operation that runs or ran it, its result. */
    record Erasure(String tenantId, String state, String opId, String startedAt, String endedAt, JsonObject result) {

        public static final String ERASING = "erasing";
        public static final String ERASED = "erased";

        /** The document's field names ({@code _id} is the tenant). */
        public static final String ID = "_id";

        public static final String STATE = "state";
        public static final String OP_ID = "opId";
        public static final String STARTED_AT = "startedAt";
        public static final String ENDED_AT = "endedAt";
        public static final String RESULT = "result";

        public boolean erasing() {
            return ERASING.equals(state);
        }

        public JsonObject toPublicJson() {
            return new JsonObject()
                    .put("tenant_id", tenantId)
                    .put("state", state)
                    .put("operation_id", opId)
                    .put("started_at", startedAt)
                    .put("ended_at", endedAt)
                    .put("result", result);
        }

        static Erasure fromDocument(JsonObject d) {
            return new Erasure(
                    d.getString(ID),
                    d.getString(STATE),
                    d.getString(OP_ID),
                    d.getString(STARTED_AT),
                    d.getString(ENDED_AT),
                    d.getJsonObject(RESULT));
        }
    }

    Future<Void> init();

    /** Marks the tenant as being erased by operation {@code opId} (again, when an earlier one was cut off). */
    Future<Void> begin(String tenantId, String opId);

    /** The tenant's erasure, or null when it was never erased. */
    Future<Erasure> get(String tenantId);

    /**
     * How old the "not being erased" answer of {@link #erasing} may be. An erasure waits this long
     * after {@link #begin} before it removes anything: by then no node admits a new write of the
     * tenant. A write admitted earlier may still be in flight, as one that checked just before the
     * mark always could be; the erasure's verification finds what it leaves, and the erasure runs
     * again.
     */
    Duration LEASE = Duration.ofSeconds(1);

    /**
     * Whether the tenant is being erased, as a write checks before it starts: a "no" may be up to
     * {@link #LEASE} old (one read serves every write of the tenant in that time), a "yes" is read now.
     */
    Future<Boolean> erasing(String tenantId);

    /** Erasures that have not finished: a node died while it ran them. */
    Future<List<Erasure>> unfinished();

    /** Marks the erasure as done, with its result; the tenant's name may then be used again. */
    Future<Void> finish(String tenantId, JsonObject result);

    /**
     * Removes every record of the tenant from MongoDB but the tracked operation {@code keepOpId} (the
     * erasure's own) and the erasure marker: files, ingest operations and idempotency keys, tracked
     * operations, events and their counter, issues, quarantine ledger, repair audit, index jobs and
     * re-index checkpoints; the erasure's own events and the tenant's event counter (so event numbers
     * never repeat) stay. Completes with how many of each it removed.
     */
    Future<JsonObject> removeRecords(String tenantId, String keepOpId);

    /** How many records of each kind {@link #removeRecords} would find now: all 0 once it has run. */
    Future<JsonObject> remaining(String tenantId, String keepOpId);
}
