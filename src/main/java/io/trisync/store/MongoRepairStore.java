package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.List;
import java.util.Set;

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
                                new JsonObject()
                                        .put(QuarantineEntry.TENANT_ID, 1)
                                        .put(QuarantineEntry.QUARANTINED_AT, 1),
                                new IndexOptions().name("tenant_time")),
                        client.createIndexWithOptions(
                                ACTIONS,
                                new JsonObject().put(AuditEntry.OP_ID, 1).put(AuditEntry.AT, 1),
                                new IndexOptions().name("op_time")))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> recordQuarantine(QuarantineEntry entry) {
        JsonObject query = new JsonObject().put(QuarantineEntry.ID, entry.id());
        JsonObject update = new JsonObject().put("$setOnInsert", entry.toDocument());
        return client.updateCollectionWithOptions(QUARANTINE, query, update, new UpdateOptions().setUpsert(true))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<QuarantineEntry> quarantineEntry(String id) {
        return client.findOne(QUARANTINE, new JsonObject().put(QuarantineEntry.ID, id), null)
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : QuarantineEntry.fromDocument(doc));
    }

    @Override
    public Future<List<QuarantineEntry>> quarantine(String tenantId, String state, int limit) {
        JsonObject query = new JsonObject();
        if (tenantId != null) {
            query.put(QuarantineEntry.TENANT_ID, tenantId);
        }
        if (state != null) {
            query.put(QuarantineEntry.STATE, state);
        }
        return find(query, limit);
    }

    @Override
    public Future<List<QuarantineEntry>> quarantinedBefore(Instant before, String tenantId, int limit) {
        JsonObject query = new JsonObject()
                .put(QuarantineEntry.STATE, QUARANTINED)
                .put(QuarantineEntry.QUARANTINED_AT, new JsonObject().put("$lt", Dates.toBson(before)));
        if (tenantId != null) {
            query.put(QuarantineEntry.TENANT_ID, tenantId);
        }
        return find(query, limit);
    }

    private Future<List<QuarantineEntry>> find(JsonObject query, int limit) {
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put(QuarantineEntry.QUARANTINED_AT, 1).put(QuarantineEntry.ID, 1))
                .setLimit(limit);
        return client.findWithOptions(QUARANTINE, query, options)
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(QuarantineEntry::fromDocument).toList());
    }

    @Override
    public Future<Boolean> transition(String id, String from, String to, JsonObject fields) {
        JsonObject query = new JsonObject().put(QuarantineEntry.ID, id).put(QuarantineEntry.STATE, from);
        JsonObject update = new JsonObject().put("$set", fields.copy().put(QuarantineEntry.STATE, to));
        return client.updateCollection(QUARANTINE, query, update)
                .recover(MongoErrors::failed)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Void> audit(AuditEntry entry) {
        return client.save(ACTIONS, entry.toDocument()).<Void>mapEmpty().recover(MongoErrors::failed);
    }

    @Override
    public Future<List<AuditEntry>> audits(String opId, int limit) {
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put(AuditEntry.AT, 1).put(AuditEntry.ID, 1))
                .setLimit(limit);
        return client.findWithOptions(ACTIONS, new JsonObject().put(AuditEntry.OP_ID, opId), options)
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(AuditEntry::fromDocument).toList());
    }

    @Override
    public Future<Long> removeAudits(List<String> opIds) {
        return opIds.isEmpty()
                ? Future.succeededFuture(0L)
                : client.removeDocuments(
                                ACTIONS,
                                new JsonObject()
                                        .put(AuditEntry.OP_ID, new JsonObject().put("$in", new JsonArray(opIds))))
                        .recover(MongoErrors::failed)
                        .map(r -> r.getRemovedCount());
    }

    @Override
    public Future<Set<String>> heldAmong(List<String> fileIds) {
        JsonObject held = new JsonObject()
                .put(QuarantineEntry.FILE_ID, new JsonObject().put("$in", new JsonArray(fileIds)))
                .put(
                        QuarantineEntry.STATE,
                        new JsonObject()
                                .put("$in", new JsonArray().add(QUARANTINED).add(MOVING)));
        return MongoGroups.values(client, QUARANTINE, held, QuarantineEntry.FILE_ID);
    }

    @Override
    public Future<List<AuditEntry>> auditsOfFile(String fileId, int limit) {
        return client.findWithOptions(
                        ACTIONS,
                        new JsonObject().put(AuditEntry.FILE_ID, fileId),
                        new FindOptions()
                                .setSort(new JsonObject().put(AuditEntry.AT, 1))
                                .setLimit(limit))
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(AuditEntry::fromDocument).toList());
    }
}
