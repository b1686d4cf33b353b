package io.trisync.store;

import io.vertx.core.Future;
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

    public MongoTenantErasures(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return Future.succeededFuture();
    }

    @Override
    public Future<Void> begin(String tenantId, String opId) {
        JsonObject set = new JsonObject()
                .put("state", Erasure.ERASING)
                .put("opId", opId)
                .put("startedAt", Instant.now().toString())
                .putNull("endedAt")
                .putNull("result");
        return client.updateCollectionWithOptions(
                        ERASURES,
                        new JsonObject().put("_id", tenantId),
                        new JsonObject().put("$set", set),
                        new UpdateOptions().setUpsert(true))
                .recover(MongoMetadataStore::failed)
                .mapEmpty();
    }

    @Override
    public Future<Erasure> get(String tenantId) {
        return client.findOne(ERASURES, new JsonObject().put("_id", tenantId), null)
                .recover(MongoMetadataStore::failed)
                .map(d -> d == null ? null : Erasure.fromDocument(d));
    }

    @Override
    public Future<List<Erasure>> unfinished() {
        return client.find(ERASURES, new JsonObject().put("state", Erasure.ERASING))
                .recover(MongoMetadataStore::<List<JsonObject>>failed)
                .map(docs -> docs.stream().map(Erasure::fromDocument).toList());
    }

    @Override
    public Future<Void> finish(String tenantId, JsonObject result) {
        JsonObject set = new JsonObject()
                .put("state", Erasure.ERASED)
                .put("endedAt", Instant.now().toString())
                .put("result", result);
        return client.updateCollection(
                        ERASURES, new JsonObject().put("_id", tenantId), new JsonObject().put("$set", set))
                .recover(MongoMetadataStore::failed)
                .mapEmpty();
    }

    @Override
    public Future<JsonObject> removeRecords(String tenantId, String keepOpId) {
        Map<String, JsonObject> queries = queries(tenantId, keepOpId);
        JsonObject removed = new JsonObject();
        Future<Void> chain = Future.succeededFuture();
        for (Map.Entry<String, JsonObject> q : queries.entrySet()) {
            String collection = q.getKey().substring(0, q.getKey().indexOf('#'));
            chain = chain.compose(v -> client.removeDocuments(collection, q.getValue())
                    .recover(MongoMetadataStore::failed)
                    .map(r -> {
                        removed.put(collection, removed.getLong(collection, 0L) + r.getRemovedCount());
                        return null;
                    }));
        }
        return chain.map(removed);
    }

    @Override
    public Future<JsonObject> remaining(String tenantId, String keepOpId) {
        Map<String, JsonObject> queries = queries(tenantId, keepOpId);
        JsonObject left = new JsonObject();
        List<Future<?>> counts = new ArrayList<>();
        for (Map.Entry<String, JsonObject> q : queries.entrySet()) {
            String collection = q.getKey().substring(0, q.getKey().indexOf('#'));
            counts.add(client.count(collection, q.getValue())
                    .recover(MongoMetadataStore::failed)
                    .onSuccess(n -> {
                        synchronized (left) {
                            left.put(collection, left.getLong(collection, 0L) + n);
                        }
                    }));
        }
        return Future.all(counts).map(left);
    }

    /** Every query that finds a record of the tenant, keyed by {@code collection#n}. */
    private static Map<String, JsonObject> queries(String tenantId, String keepOpId) {
        Map<String, JsonObject> q = new LinkedHashMap<>();
        JsonObject byTenant = new JsonObject().put("tenantId", tenantId);
        q.put(MongoMetadataStore.FILES + "#1", byTenant);
        q.put(MongoOperationLog.OPS + "#1", byTenant);
        q.put(
                MongoOperationLog.KEYS + "#1",
                new JsonObject().put("_id", new JsonObject().put("$regex", "^" + Pattern.quote(tenantId) + "\\x00")));
        q.put(MongoSyncOperationStore.OPS + "#1", byTenant.copy().put("_id", new JsonObject().put("$ne", keepOpId)));
        // The erasure's own events stay, and so does the tenant's event counter: event numbers never repeat.
        q.put(MongoEventStore.EVENTS + "#1", byTenant.copy().put("opId", new JsonObject().put("$ne", keepOpId)));
        q.put(MongoIssueStore.ISSUES + "#1", byTenant);
        q.put(MongoRepairStore.QUARANTINE + "#1", byTenant);
        q.put(MongoRepairStore.ACTIONS + "#1", new JsonObject().put("user_id", tenantId));
        q.put(MongoIndexQueue.JOBS + "#1", byTenant);
        q.put(
                MongoReindexCheckpoints.CHECKPOINTS + "#1",
                new JsonObject().put("_id", new JsonObject().put("$regex", "^" + Pattern.quote(tenantId) + " ")));
        q.put(MongoTrendStore.SAMPLES + "#1", new JsonObject().put("scope", tenantId));
        q.put(MongoTrendStore.LATEST + "#1", new JsonObject().put("_id", tenantId));
        return q;
    }
}
