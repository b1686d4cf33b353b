package io.trisync.store;

import io.trisync.concurrent.ReadLease;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** {@link TenantErasures} in the MongoDB collection {@code tenant_erasures}, {@code _id} = tenant. */
public final class MongoTenantErasures implements TenantErasures {

    static final String ERASURES = "tenant_erasures";

    private final MongoClient client;
    private final ReadLease<String> erasing;

    public MongoTenantErasures(MongoClient client) {
        this.client = client;
        this.erasing =
                new ReadLease<>(LEASE, System::nanoTime, tenant -> get(tenant).map(e -> e != null && e.erasing()));
    }

    @Override
    public Future<Void> init() {
        return Future.succeededFuture();
    }

    @Override
    public Future<Void> begin(String tenantId, String opId) {
        JsonObject set = new JsonObject()
                .put(Erasure.STATE, Erasure.ERASING)
                .put(Erasure.OP_ID, opId)
                .put(Erasure.STARTED_AT, Instant.now().toString())
                .putNull(Erasure.ENDED_AT)
                .putNull(Erasure.RESULT);
        // A tenant erased before and erased again counts from zero; a run cut off is counted on.
        JsonObject restart = new JsonObject()
                .put("$set", new JsonObject().put(Erasure.REMOVED, new JsonObject()))
                .put("$unset", new JsonObject().put(Erasure.PENDING, ""));
        return client.updateCollection(
                        ERASURES,
                        new JsonObject().put(Erasure.ID, tenantId).put(Erasure.STATE, Erasure.ERASED),
                        restart)
                .compose(v -> client.updateCollectionWithOptions(
                        ERASURES,
                        new JsonObject().put(Erasure.ID, tenantId),
                        new JsonObject().put("$set", set),
                        new UpdateOptions().setUpsert(true)))
                .recover(MongoErrors::failed)
                .<Void>mapEmpty()
                .onSuccess(v -> erasing.forget(tenantId));
    }

    @Override
    public Future<Boolean> pending(String tenantId, String opId, Pending step) {
        return fenced(
                tenantId, opId, new JsonObject().put("$set", new JsonObject().put(Erasure.PENDING, step.toJson())));
    }

    @Override
    public Future<Boolean> counted(String tenantId, String opId, String what, long n) {
        return fenced(
                tenantId,
                opId,
                new JsonObject()
                        .put("$inc", new JsonObject().put(Erasure.REMOVED + "." + what, n))
                        .put("$unset", new JsonObject().put(Erasure.PENDING, "")));
    }

    /** Applies {@code update} while the erasure is still run by {@code opId}; completes with whether it was. */
    private Future<Boolean> fenced(String tenantId, String opId, JsonObject update) {
        return client.updateCollection(
                        ERASURES,
                        new JsonObject()
                                .put(Erasure.ID, tenantId)
                                .put(Erasure.STATE, Erasure.ERASING)
                                .put(Erasure.OP_ID, opId),
                        update)
                .recover(MongoErrors::failed)
                .map(r -> r.getDocMatched() == 1);
    }

    @Override
    public Future<Boolean> erasing(String tenantId) {
        return erasing.blocked(tenantId)
                .recover(error -> Future.failedFuture(
                        error instanceof ReadLease.TooSlow slow
                                ? new Failure.Unavailable(
                                        "mongodb", "the tenant's erasure state: " + slow.getMessage(), slow)
                                : error));
    }

    @Override
    public Future<Erasure> get(String tenantId) {
        return client.findOne(ERASURES, new JsonObject().put(Erasure.ID, tenantId), null)
                .recover(MongoErrors::failed)
                .map(d -> d == null ? null : Erasure.fromDocument(d));
    }

    @Override
    public Future<List<Erasure>> unfinished() {
        return client.find(ERASURES, new JsonObject().put(Erasure.STATE, Erasure.ERASING))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream().map(Erasure::fromDocument).toList());
    }

    @Override
    public Future<Void> finish(String tenantId, JsonObject result) {
        JsonObject set = new JsonObject()
                .put(Erasure.STATE, Erasure.ERASED)
                .put(Erasure.ENDED_AT, Instant.now().toString())
                .put(Erasure.RESULT, result);
        return client.updateCollection(
                        ERASURES, new JsonObject().put(Erasure.ID, tenantId), new JsonObject().put("$set", set))
                .recover(MongoErrors::failed)
                .mapEmpty();
    }

    @Override
    public List<String> recordKinds() {
        return List.copyOf(queries("", List.of()).keySet());
    }

    @Override
    public Future<Long> countRecords(String tenantId, String kind, List<String> keepOpIds) {
        return client.count(kind, query(tenantId, kind, keepOpIds)).recover(MongoErrors::failed);
    }

    @Override
    public Future<Long> removeRecords(String tenantId, String kind, String keepOpId) {
        return client.removeDocuments(kind, query(tenantId, kind, List.of(keepOpId)))
                .recover(MongoErrors::failed)
                .map(r -> r.getRemovedCount());
    }

    private static JsonObject query(String tenantId, String kind, List<String> keepOpIds) {
        JsonObject query = queries(tenantId, keepOpIds).get(kind);
        if (query == null) {
            throw new IllegalArgumentException("no records of kind " + kind);
        }
        return query;
    }

    @Override
    public Future<JsonObject> remaining(String tenantId, String keepOpId) {
        Map<String, JsonObject> queries = queries(tenantId, List.of(keepOpId));
        JsonObject left = new JsonObject();
        List<Future<?>> counts = new ArrayList<>();
        for (Map.Entry<String, JsonObject> q : queries.entrySet()) {
            counts.add(client.count(q.getKey(), q.getValue())
                    .recover(MongoErrors::failed)
                    .onSuccess(n -> {
                        synchronized (left) {
                            left.put(q.getKey(), n);
                        }
                    }));
        }
        return Future.all(counts).map(left);
    }

    /** The query that finds the tenant's records in each collection, keyed by the collection (the kind). */
    private static Map<String, JsonObject> queries(String tenantId, List<String> keepOpIds) {
        JsonObject notKept = new JsonObject().put("$nin", new JsonArray(List.copyOf(keepOpIds)));
        Map<String, JsonObject> q = new LinkedHashMap<>();
        q.put(MongoMetadataStore.FILES, new JsonObject().put(FileRecord.TENANT_ID, tenantId));
        q.put(MongoMetadataStore.PARTITION_CHECKS, new JsonObject().put(PartitionCheck.TENANT_ID, tenantId));
        q.put(MongoOperationLog.OPS, new JsonObject().put(IngestOperation.TENANT_ID, tenantId));
        q.put(
                MongoOperationLog.KEYS,
                new JsonObject()
                        .put(
                                MongoOperationLog.KEY_ID,
                                new JsonObject().put("$regex", "^" + Pattern.quote(tenantId) + "\\x00")));
        q.put(
                MongoSyncOperationStore.OPS,
                new JsonObject().put(SyncOperation.TENANT_ID, tenantId).put(SyncOperation.ID, notKept.copy()));
        // The erasure's own events stay, and so does the tenant's event counter: event numbers never repeat.
        q.put(
                MongoEventStore.EVENTS,
                new JsonObject().put(Event.TENANT_ID, tenantId).put(Event.OP_ID, notKept.copy()));
        q.put(MongoIssueStore.ISSUES, new JsonObject().put(IssueRecord.TENANT_ID, tenantId));
        q.put(MongoRepairStore.QUARANTINE, new JsonObject().put(QuarantineEntry.TENANT_ID, tenantId));
        q.put(MongoRepairStore.ACTIONS, new JsonObject().put(AuditEntry.USER_ID, tenantId));
        q.put(MongoIndexQueue.JOBS, new JsonObject().put(IndexJob.TENANT_ID, tenantId));
        q.put(
                MongoReindexCheckpoints.CHECKPOINTS,
                new JsonObject()
                        .put(
                                ReindexCheckpoints.Checkpoint.ID,
                                new JsonObject().put("$regex", "^" + Pattern.quote(tenantId) + " ")));
        q.put(MongoTrendStore.SAMPLES, new JsonObject().put(TrendStore.Sample.SCOPE, tenantId));
        q.put(MongoTrendStore.LATEST, new JsonObject().put(MongoTrendStore.LATEST_SCOPE, tenantId));
        return q;
    }
}
