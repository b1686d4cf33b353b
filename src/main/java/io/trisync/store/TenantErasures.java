package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;

/**
 * Erasing a tenant: the marker that stops its writes while the erasure runs (and says how it ended),
 * and the removal of everything trisync keeps about it in MongoDB. The blobs and points are removed
 * through {@link BlobStore} and {@link VectorStore}.
 */
public interface TenantErasures {

    /**
     * An erasure: {@code state} erasing or erased, the operation that runs or ran it, its result;
     * {@code removed}, what its runs have removed so far ({@code blobs}, {@code records} by kind), and
     * {@code pending}, the removal step a run began and had not counted yet (null: none).
     */
    record Erasure(
            String tenantId,
            String state,
            String opId,
            String startedAt,
            String endedAt,
            JsonObject result,
            JsonObject removed,
            Pending pending) {

        public static final String ERASING = "erasing";
        public static final String ERASED = "erased";

        /** The document's field names ({@code _id} is the tenant). */
        public static final String ID = "_id";

        public static final String STATE = "state";
        public static final String OP_ID = "opId";
        public static final String STARTED_AT = "startedAt";
        public static final String ENDED_AT = "endedAt";
        public static final String RESULT = "result";
        public static final String REMOVED = "removed";
        public static final String PENDING = "pending";

        /** The names of the counts in {@code removed}: blobs, and records by kind ({@code records.<kind>}). */
        public static final String BLOBS = "blobs";

        public static final String RECORDS = "records";

        public boolean erasing() {
            return ERASING.equals(state);
        }

        /** Blobs removed so far, by every run of this erasure. */
        public long blobsRemoved() {
            return removed.getLong(BLOBS, 0L);
        }

        public JsonObject toPublicJson() {
            return new JsonObject()
                    .put("tenant_id", tenantId)
                    .put("state", state)
                    .put("operation_id", opId)
                    .put("started_at", startedAt)
                    .put("ended_at", endedAt)
                    .put("removed", removed)
                    .put("result", result);
        }

        static Erasure fromDocument(JsonObject d) {
            JsonObject pending = d.getJsonObject(PENDING);
            return new Erasure(
                    d.getString(ID),
                    d.getString(STATE),
                    d.getString(OP_ID),
                    d.getString(STARTED_AT),
                    d.getString(ENDED_AT),
                    d.getJsonObject(RESULT),
                    d.getJsonObject(REMOVED, new JsonObject()),
                    pending == null ? null : Pending.fromJson(pending));
        }
    }

    /**
     * A removal step an erasure's run is about to take, recorded before it so that the next run can
     * count what a run cut off in it removed: the objects of {@code blobKeys} no longer there, or of
     * the records of kind {@code records}, how many fewer there are than {@code before} (counted
     * without the operation {@code keepOpId}, as the cut run counted them). One of the two is set.
     */
    record Pending(List<String> blobKeys, String records, long before, String keepOpId) {

        /** The document's field names. */
        public static final String BLOB_KEYS = "blobKeys";

        public static final String KIND = "records";
        public static final String BEFORE = "before";
        public static final String KEEP_OP_ID = "keepOpId";

        /** About to delete the objects {@code keys}. */
        public static Pending blobs(List<String> keys) {
            return new Pending(List.copyOf(keys), null, 0, null);
        }

        /** About to remove the {@code before} records of {@code kind} (all but {@code keepOpId}'s). */
        public static Pending records(String kind, long before, String keepOpId) {
            return new Pending(null, kind, before, keepOpId);
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(BLOB_KEYS, blobKeys == null ? null : new JsonArray(blobKeys))
                    .put(KIND, records)
                    .put(BEFORE, before)
                    .put(KEEP_OP_ID, keepOpId);
        }

        public static Pending fromJson(JsonObject json) {
            JsonArray keys = json.getJsonArray(BLOB_KEYS);
            return new Pending(
                    keys == null ? null : keys.stream().map(String::valueOf).toList(),
                    json.getString(KIND),
                    json.getLong(BEFORE, 0L),
                    json.getString(KEEP_OP_ID));
        }
    }

    Future<Void> init();

    /**
     * Marks the tenant as being erased by operation {@code opId} (again, when an earlier one was cut
     * off: what it removed stays counted). An erasure of a tenant erased before counts from zero.
     */
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

    /**
     * Fails 409 {@code tenant_erasing} while the tenant is being erased ({@link #erasing}): what every
     * write of the tenant (an upload's, a repair's) checks before it starts.
     */
    default Future<Void> admitting(String tenantId) {
        return erasing(tenantId)
                .compose(erasing -> erasing
                        ? Future.failedFuture(
                                new Failure.Conflict("tenant_erasing: tenant " + tenantId + " is being erased"))
                        : Future.succeededFuture());
    }

    /** Erasures that have not finished: a node died while it ran them. */
    Future<List<Erasure>> unfinished();

    /** Marks the erasure as done, with its result; the tenant's name may then be used again. */
    Future<Void> finish(String tenantId, JsonObject result);

    /**
     * Records the removal step operation {@code opId} is about to take ({@link Erasure#pending}).
     * Completes false, writing nothing, when the erasure is no longer run by {@code opId} (another
     * run took it over).
     */
    Future<Boolean> pending(String tenantId, String opId, Pending step);

    /**
     * Adds {@code n} to the count {@code what} of {@link Erasure#removed} ({@link Erasure#BLOBS}, or
     * {@code records.<kind>}) and clears the pending step, in one write. Completes false, writing
     * nothing, when the erasure is no longer run by {@code opId}.
     */
    Future<Boolean> counted(String tenantId, String opId, String what, long n);

    /**
     * The kinds of records trisync keeps of a tenant in MongoDB, one per collection: files, ingest
     * operations and idempotency keys, tracked operations, events, issues, quarantine ledger, repair
     * audit, index jobs, re-index checkpoints and trend samples.
     */
    List<String> recordKinds();

    /**
     * How many records of {@code kind} the tenant has, but the tracked operation {@code keepOpId} and
     * its events (the erasure's own) and the erasure marker and the tenant's event counter (so event
     * numbers never repeat), which an erasure keeps.
     */
    default Future<Long> countRecords(String tenantId, String kind, String keepOpId) {
        return countRecords(tenantId, kind, List.of(keepOpId));
    }

    /**
     * {@link #countRecords(String, String, String)} keeping several operations' records: a run that
     * counts what a run cut off removed keeps both its own and that one's.
     */
    Future<Long> countRecords(String tenantId, String kind, List<String> keepOpIds);

    /** Removes the records {@link #countRecords} counts; completes with how many it removed. */
    Future<Long> removeRecords(String tenantId, String kind, String keepOpId);

    /** How many records of each kind {@link #removeRecords} would find now: all 0 once they are removed. */
    Future<JsonObject> remaining(String tenantId, String keepOpId);
}
