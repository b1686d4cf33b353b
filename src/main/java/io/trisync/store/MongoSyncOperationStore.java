package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@link SyncOperationStore} on vertx-mongo-client. */
public final class MongoSyncOperationStore implements SyncOperationStore {

    public static final String OPS = "sync_operations";
    static final String SLOTS = "sync_tenant_slots";
    /** The fields of a tenant's slot: the tenant ({@code _id}), the operation holding it, since when. */
    private static final String SLOT_TENANT = "_id";

    private static final String SLOT_OP_ID = "opId";
    private static final String SLOT_SINCE = "since";
    private static final String RUNNING = SyncOperation.Status.RUNNING.wire();

    private final MongoClient client;

    public MongoSyncOperationStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(SyncOperation.TENANT_ID, 1).put(SyncOperation.STARTED_AT, -1),
                        new IndexOptions().name("tenant_newest"))
                .compose(v -> client.createIndexWithOptions(
                        OPS, new JsonObject().put(SyncOperation.STATUS, 1), new IndexOptions().name("by_status")))
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> start(SyncOperation op) {
        JsonObject slot = new JsonObject()
                .put(SLOT_TENANT, op.tenantId())
                .put(SLOT_OP_ID, op.id())
                .put(SLOT_SINCE, Dates.toBson(op.startedAt()));
        return client.insert(SLOTS, slot)
                .recover(MongoErrors::failed)
                .compose(id -> client.insert(OPS, op.toDocument())
                        .recover(error -> releaseSlot(op).transform(ignored -> MongoErrors.failed(error))))
                .mapEmpty();
    }

    @Override
    public Future<SyncOperation> running(String tenantId) {
        return client.findOne(SLOTS, new JsonObject().put(SLOT_TENANT, tenantId), null)
                .recover(MongoErrors::failed)
                .compose(slot -> slot == null ? Future.succeededFuture() : slotHolder(tenantId, slot));
    }

    /**
     * The operation named by a slot when it is running. A slot naming an operation that ended (its
     * node died between ending it and freeing the slot) is freed here, so it cannot block the tenant;
     * so is one whose operation is still unwritten past {@link #UNWRITTEN_GRACE}.
     */
    private Future<SyncOperation> slotHolder(String tenantId, JsonObject slot) {
        String opId = slot.getString(SLOT_OP_ID);
        return client.findOne(OPS, new JsonObject().put(SyncOperation.ID, opId), null)
                .recover(MongoErrors::failed)
                .compose(doc -> {
                    if (doc != null) {
                        SyncOperation op = SyncOperation.fromDocument(doc);
                        return op.status() == SyncOperation.Status.RUNNING
                                ? Future.succeededFuture(op)
                                : releaseSlot(tenantId, opId).map((SyncOperation) null);
                    }
                    Instant since = Dates.fromBson(slot.getValue(SLOT_SINCE));
                    boolean leftBehind =
                            since == null || since.plus(UNWRITTEN_GRACE).isBefore(Instant.now());
                    return leftBehind
                            ? releaseSlot(tenantId, opId).map((SyncOperation) null)
                            : Future.succeededFuture(null);
                });
    }

    @Override
    public Future<List<SyncOperation>> allRunning() {
        return client.find(OPS, new JsonObject().put(SyncOperation.STATUS, RUNNING))
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(SyncOperation::fromDocument).toList());
    }

    @Override
    public Future<Map<String, Instant>> lastScans() {
        return lastScans(null);
    }

    @Override
    public Future<Instant> lastScan(String tenantId) {
        return lastScans(tenantId).map(last -> last.get(tenantId));
    }

    /** Each tenant's last scan ({@code tenantId}'s only, unless null); see {@link SyncOperationStore#lastScans()}. */
    private Future<Map<String, Instant>> lastScans(String tenantId) {
        JsonObject match = new JsonObject()
                .put(SyncOperation.KIND, SyncOperation.SCAN)
                .put(SyncOperation.STATUS, SyncOperation.Status.COMPLETED.wire())
                .put(
                        SyncOperation.RESULT + "." + SyncOperation.RESULT_MODE,
                        new JsonObject().put("$ne", SyncOperation.QUICK));
        if (tenantId != null) {
            match.put(SyncOperation.TENANT_ID, tenantId);
        }
        return MongoGroups.group(
                        client,
                        OPS,
                        match,
                        SyncOperation.TENANT_ID,
                        new JsonObject().put("$max", "$" + SyncOperation.COMPLETED_AT))
                .map(groups -> {
                    Map<String, Instant> out = new HashMap<>();
                    groups.forEach((tenant, at) -> out.put(tenant, Dates.fromBson(at)));
                    return out;
                });
    }

    @Override
    public Future<Boolean> heartbeat(String opId, SyncOperation.Progress progress, long filesProcessed) {
        JsonObject set = new JsonObject()
                .put(SyncOperation.HEARTBEAT_AT, Dates.toBson(Instant.now()))
                .put(SyncOperation.PROGRESS, progress.toJson())
                .put(SyncOperation.FILES_PROCESSED, filesProcessed);
        return client.updateCollection(
                        OPS,
                        new JsonObject().put(SyncOperation.ID, opId).put(SyncOperation.STATUS, RUNNING),
                        new JsonObject().put("$set", set))
                .recover(MongoErrors::failed)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Boolean> finish(
            SyncOperation op, SyncOperation.Status status, String errorMessage, JsonObject result) {
        JsonObject set = new JsonObject()
                .put(SyncOperation.STATUS, status.wire())
                .put(SyncOperation.COMPLETED_AT, Dates.toBson(Instant.now()))
                .put(SyncOperation.ERROR_MESSAGE, errorMessage)
                .put(SyncOperation.RESULT, result);
        return client.updateCollection(
                        OPS,
                        new JsonObject().put(SyncOperation.ID, op.id()).put(SyncOperation.STATUS, RUNNING),
                        new JsonObject().put("$set", set))
                .recover(MongoErrors::failed)
                .compose(r -> {
                    boolean ended = r != null && r.getDocMatched() > 0;
                    // Free the slot in either case: an operation that is not running must not hold it.
                    return releaseSlot(op).map(ended);
                });
    }

    @Override
    public Future<SyncOperation> get(String opId) {
        return client.findOne(OPS, new JsonObject().put(SyncOperation.ID, opId), null)
                .recover(MongoErrors::failed)
                .compose(doc -> doc == null
                        ? Future.failedFuture(new Failure.NotFound("mongodb", "no sync operation " + opId))
                        : Future.succeededFuture(SyncOperation.fromDocument(doc)));
    }

    @Override
    public Future<List<SyncOperation>> history(String tenantId, SyncOperation.Status status, int limit) {
        JsonObject query = new JsonObject();
        if (tenantId != null) {
            query.put(SyncOperation.TENANT_ID, tenantId);
        }
        if (status != null) {
            query.put(SyncOperation.STATUS, status.wire());
        }
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put(SyncOperation.STARTED_AT, -1))
                .setLimit(limit);
        return client.findWithOptions(OPS, query, options)
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(SyncOperation::fromDocument).toList());
    }

    private Future<Void> releaseSlot(SyncOperation op) {
        return releaseSlot(op.tenantId(), op.id());
    }

    private Future<Void> releaseSlot(String tenantId, String opId) {
        return client.removeDocument(
                        SLOTS, new JsonObject().put(SLOT_TENANT, tenantId).put(SLOT_OP_ID, opId))
                .recover(MongoErrors::failed)
                .mapEmpty();
    }

    @Override
    public Future<List<String>> removeEnded(Instant before) {
        JsonObject ended = new JsonObject()
                .put(SyncOperation.STATUS, new JsonObject().put("$ne", RUNNING))
                .put(SyncOperation.COMPLETED_AT, new JsonObject().put("$lt", Dates.toBson(before)));
        return client.findWithOptions(
                        OPS,
                        ended,
                        new FindOptions()
                                .setFields(new JsonObject().put(SyncOperation.ID, 1))
                                .setLimit(MongoOperationLog.RETENTION_BATCH))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .compose(docs -> {
                    List<String> ids = docs.stream()
                            .map(d -> d.getString(SyncOperation.ID))
                            .toList();
                    return ids.isEmpty()
                            ? Future.succeededFuture(ids)
                            : client.removeDocuments(
                                            OPS,
                                            new JsonObject()
                                                    .put(
                                                            SyncOperation.ID,
                                                            new JsonObject().put("$in", new JsonArray(ids)))
                                                    .put(SyncOperation.STATUS, new JsonObject().put("$ne", RUNNING)))
                                    .recover(MongoErrors::failed)
                                    .map(r -> ids);
                });
    }
}
