package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.List;

/** {@link SyncOperationStore} on vertx-mongo-client. */
public final class MongoSyncOperationStore implements SyncOperationStore {

    static final String OPS = "sync_operations";
    static final String SLOTS = "sync_tenant_slots";
    private static final String RUNNING = SyncOperation.Status.RUNNING.wire();

    private final MongoClient client;

    public MongoSyncOperationStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put("tenantId", 1).put("startedAt", -1),
                        new IndexOptions().name("tenant_newest"))
                .compose(v -> client.createIndexWithOptions(
                        OPS, new JsonObject().put("status", 1), new IndexOptions().name("by_status")))
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> start(SyncOperation op) {
        JsonObject slot = new JsonObject()
                .put("_id", op.tenantId())
                .put("opId", op.id())
                .put("since", Dates.toBson(op.startedAt()));
        return client.insert(SLOTS, slot)
                .recover(MongoMetadataStore::failed)
                .compose(id -> client.insert(OPS, op.toDocument())
                        .recover(error -> releaseSlot(op).transform(ignored -> MongoMetadataStore.failed(error))))
                .mapEmpty();
    }

    @Override
    public Future<SyncOperation> running(String tenantId) {
        return client.findOne(SLOTS, new JsonObject().put("_id", tenantId), null)
                .recover(MongoMetadataStore::failed)
                .compose(slot -> slot == null ? Future.succeededFuture() : slotHolder(slot.getString("opId")));
    }

    /**
     * The operation named by a slot when it is running. A slot naming an operation that ended (its
     * node died between ending it and freeing the slot) is freed here, so it cannot block the tenant.
     */
    private Future<SyncOperation> slotHolder(String opId) {
        return get(opId)
                .compose(op -> op.status() == SyncOperation.Status.RUNNING
                        ? Future.succeededFuture(op)
                        : releaseSlot(op).map((SyncOperation) null));
    }

    @Override
    public Future<List<SyncOperation>> allRunning() {
        return client.find(OPS, new JsonObject().put("status", RUNNING))
                .recover(MongoMetadataStore::failed)
                .map(docs -> docs.stream().map(SyncOperation::fromDocument).toList());
    }

    @Override
    public Future<java.util.Map<String, Instant>> lastCompleted(String kind) {
        JsonObject match = new JsonObject().put("kind", kind).put("status", SyncOperation.Status.COMPLETED.wire());
        return MongoGroups.group(client, OPS, match, "tenantId", new JsonObject().put("$max", "$completedAt"))
                .map(groups -> {
                    java.util.Map<String, Instant> out = new java.util.HashMap<>();
                    groups.forEach((tenant, at) -> out.put(tenant, Dates.fromBson(at)));
                    return out;
                });
    }

    @Override
    public Future<Boolean> heartbeat(String opId, SyncOperation.Progress progress, long filesProcessed) {
        JsonObject set = new JsonObject()
                .put("heartbeatAt", Dates.toBson(Instant.now()))
                .put("progress", progress.toJson())
                .put("filesProcessed", filesProcessed);
        return client.updateCollection(
                        OPS,
                        new JsonObject().put("_id", opId).put("status", RUNNING),
                        new JsonObject().put("$set", set))
                .recover(MongoMetadataStore::failed)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Boolean> finish(
            SyncOperation op, SyncOperation.Status status, String errorMessage, JsonObject result) {
        JsonObject set = new JsonObject()
                .put("status", status.wire())
                .put("completedAt", Dates.toBson(Instant.now()))
                .put("errorMessage", errorMessage)
                .put("result", result);
        return client.updateCollection(
                        OPS,
                        new JsonObject().put("_id", op.id()).put("status", RUNNING),
                        new JsonObject().put("$set", set))
                .recover(MongoMetadataStore::failed)
                .compose(r -> {
                    boolean ended = r != null && r.getDocMatched() > 0;
                    // Free the slot in either case: an operation that is not running must not hold it.
                    return releaseSlot(op).map(ended);
                });
    }

    @Override
    public Future<SyncOperation> get(String opId) {
        return client.findOne(OPS, new JsonObject().put("_id", opId), null)
                .recover(MongoMetadataStore::failed)
                .compose(doc -> doc == null
                        ? Future.failedFuture(new Failure.NotFound("mongodb", "no sync operation " + opId))
                        : Future.succeededFuture(SyncOperation.fromDocument(doc)));
    }

    @Override
    public Future<List<SyncOperation>> history(String tenantId, SyncOperation.Status status, int limit) {
        JsonObject query = new JsonObject();
        if (tenantId != null) {
            query.put("tenantId", tenantId);
        }
        if (status != null) {
            query.put("status", status.wire());
        }
        FindOptions options =
                new FindOptions().setSort(new JsonObject().put("startedAt", -1)).setLimit(limit);
        return client.findWithOptions(OPS, query, options)
                .recover(MongoMetadataStore::failed)
                .map(docs -> docs.stream().map(SyncOperation::fromDocument).toList());
    }

    private Future<Void> releaseSlot(SyncOperation op) {
        return client.removeDocument(
                        SLOTS, new JsonObject().put("_id", op.tenantId()).put("opId", op.id()))
                .recover(MongoMetadataStore::failed)
                .mapEmpty();
    }

    @Override
    public Future<List<String>> removeEnded(Instant before) {
        JsonObject ended = new JsonObject()
                .put("status", new JsonObject().put("$ne", RUNNING))
                .put("completedAt", new JsonObject().put("$lt", Dates.toBson(before)));
        return client.findWithOptions(
                        OPS,
                        ended,
                        new io.vertx.ext.mongo.FindOptions()
                                .setFields(new JsonObject().put("_id", 1))
                                .setLimit(MongoOperationLog.RETENTION_BATCH))
                .recover(MongoMetadataStore::<List<JsonObject>>failed)
                .compose(docs -> {
                    List<String> ids =
                            docs.stream().map(d -> d.getString("_id")).toList();
                    return ids.isEmpty()
                            ? Future.succeededFuture(ids)
                            : client.removeDocuments(
                                            OPS,
                                            new JsonObject()
                                                    .put(
                                                            "_id",
                                                            new JsonObject()
                                                                    .put("$in", new io.vertx.core.json.JsonArray(ids)))
                                                    .put("status", new JsonObject().put("$ne", RUNNING)))
                                    .recover(MongoMetadataStore::failed)
                                    .map(r -> ids);
                });
    }
}
