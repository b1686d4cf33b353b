package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.List;

/** {@link RepairStore} on vertx-mongo-client. */
public final class MongoRepairStore implements RepairStore {

    static final String QUARANTINE = "sync_quarantine";
    static final String ACTIONS = "sync_repair_actions";

    private final MongoClient client;

    public MongoRepairStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return Future.all(
                        client.createIndexWithOptions(
                                QUARANTINE,
                                new JsonObject().put("tenantId", 1).put("quarantinedAt", 1),
                                new IndexOptions().name("tenant_time")),
                        client.createIndexWithOptions(
                                ACTIONS,
                                new JsonObject().put("opId", 1).put("at", 1),
                                new IndexOptions().name("op_time")))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> recordQuarantine(JsonObject entry) {
        JsonObject query = new JsonObject().put("_id", entry.getString("_id"));
        JsonObject update = new JsonObject().put("$setOnInsert", entry);
        return client.updateCollectionWithOptions(QUARANTINE, query, update, new UpdateOptions().setUpsert(true))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<JsonObject> quarantineEntry(String id) {
        return client.findOne(QUARANTINE, new JsonObject().put("_id", id), null).recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<List<JsonObject>> quarantine(String tenantId, String state, int limit) {
        JsonObject query = new JsonObject();
        if (tenantId != null) {
            query.put("tenantId", tenantId);
        }
        if (state != null) {
            query.put("state", state);
        }
        return find(query, limit);
    }

    @Override
    public Future<List<JsonObject>> quarantinedBefore(Instant before, String tenantId, int limit) {
        JsonObject query = new JsonObject()
                .put("state", QUARANTINED)
                .put("quarantinedAt", new JsonObject().put("$lt", Dates.toBson(before)));
        if (tenantId != null) {
            query.put("tenantId", tenantId);
        }
        return find(query, limit);
    }

    private Future<List<JsonObject>> find(JsonObject query, int limit) {
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put("quarantinedAt", 1).put("_id", 1))
                .setLimit(limit);
        return client.findWithOptions(QUARANTINE, query, options).recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Boolean> transition(String id, String from, String to, JsonObject fields) {
        JsonObject query = new JsonObject().put("_id", id).put("state", from);
        JsonObject update = new JsonObject().put("$set", fields.copy().put("state", to));
        return client.updateCollection(QUARANTINE, query, update)
                .recover(MongoMetadataStore::failed)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Void> audit(JsonObject action) {
        return client.save(ACTIONS, action).<Void>mapEmpty().recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<List<JsonObject>> audits(String opId, int limit) {
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put("at", 1).put("_id", 1))
                .setLimit(limit);
        return client.findWithOptions(ACTIONS, new JsonObject().put("opId", opId), options)
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Long> removeAudits(List<String> opIds) {
        return opIds.isEmpty()
                ? Future.succeededFuture(0L)
                : client.removeDocuments(
                                ACTIONS,
                                new JsonObject()
                                        .put(
                                                "opId",
                                                new JsonObject().put("$in", new io.vertx.core.json.JsonArray(opIds))))
                        .recover(MongoMetadataStore::failed)
                        .map(r -> r.getRemovedCount());
    }

    @Override
    public Future<java.util.Set<String>> heldAmong(List<String> fileIds) {
        JsonObject held = new JsonObject()
                .put("fileId", new JsonObject().put("$in", new io.vertx.core.json.JsonArray(fileIds)))
                .put(
                        "state",
                        new JsonObject()
                                .put(
                                        "$in",
                                        new io.vertx.core.json.JsonArray()
                                                .add(QUARANTINED)
                                                .add(MOVING)));
        return MongoGroups.values(client, QUARANTINE, held, "fileId");
    }

    @Override
    public Future<List<JsonObject>> auditsOfFile(String fileId, int limit) {
        return client.findWithOptions(
                        ACTIONS,
                        new JsonObject().put("file_id", fileId),
                        new FindOptions().setSort(new JsonObject().put("at", 1)).setLimit(limit))
                .recover(MongoMetadataStore::failed);
    }
}
