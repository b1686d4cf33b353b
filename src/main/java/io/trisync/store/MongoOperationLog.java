package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Duration;
import java.time.Instant;

/** {@link OperationLog} on vertx-mongo-client. */
public final class MongoOperationLog implements OperationLog {

    static final String OPS = "ingest_ops";
    static final String KEYS = "idempotency_keys";

    private final MongoClient client;

    public MongoOperationLog(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put("terminal", 1).put("updatedAt", 1),
                        new IndexOptions().name("open_by_age"))
                .compose(v -> client.createIndexWithOptions(
                        OPS, new JsonObject().put("fileId", 1), new IndexOptions().name("by_file")))
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> begin(IngestOperation op) {
        Future<Void> key = op.idempotencyKey() == null
                ? Future.succeededFuture()
                : client.insert(
                                KEYS,
                                new JsonObject()
                                        .put("_id", keyId(op.tenantId(), op.idempotencyKey()))
                                        .put("opId", op.id())
                                        .put("createdAt", Dates.toBson(op.createdAt())))
                        .<Void>mapEmpty()
                        .recover(MongoMetadataStore::failed);
        return key.compose(
                v -> client.insert(OPS, op.toDocument()).<Void>mapEmpty().recover(MongoMetadataStore::failed));
    }

    @Override
    public Future<IngestOperation> byIdempotencyKey(String tenantId, String key) {
        return client.findOne(KEYS, new JsonObject().put("_id", keyId(tenantId, key)), null)
                .recover(MongoMetadataStore::failed)
                .compose(doc -> doc == null ? Future.succeededFuture() : get(doc.getString("opId")));
    }

    @Override
    public Future<IngestOperation> get(String opId) {
        return client.findOne(OPS, new JsonObject().put("_id", opId), null)
                .recover(MongoMetadataStore::failed)
                .compose(doc -> doc == null
                        ? Future.failedFuture(new StoreException.NotFound("mongodb", "no operation " + opId))
                        : Future.succeededFuture(IngestOperation.fromDocument(doc)));
    }

    @Override
    public Future<IngestOperation> openFor(String fileId) {
        FindOptions options =
                new FindOptions().setSort(new JsonObject().put("createdAt", -1)).setLimit(1);
        return client.findWithOptions(
                        OPS, new JsonObject().put("fileId", fileId).put("terminal", false), options)
                .recover(MongoMetadataStore::failed)
                .map(docs -> docs.isEmpty() ? null : IngestOperation.fromDocument(docs.get(0)));
    }

    @Override
    public Future<IngestOperation> uploadOf(String fileId) {
        JsonObject query = new JsonObject()
                .put("fileId", fileId)
                .put("kind", IngestOperation.Kind.UPLOAD.name())
                .put(
                        "step",
                        new JsonObject()
                                .put(
                                        "$in",
                                        new io.vertx.core.json.JsonArray()
                                                .add(IngestOperation.Step.COMMITTED.name())
                                                .add(IngestOperation.Step.DONE.name())));
        return client.findOne(OPS, query, null)
                .recover(MongoMetadataStore::failed)
                .map(doc -> doc == null ? null : IngestOperation.fromDocument(doc));
    }

    @Override
    public Future<Void> advance(String opId, IngestOperation.Step step, String lastError) {
        JsonObject set = stepSet(step, lastError);
        if (step.terminal()) {
            set.putNull("leaseOwner").putNull("leaseUntil");
        }
        return client.updateCollection(OPS, new JsonObject().put("_id", opId), new JsonObject().put("$set", set))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Boolean> advanceIfHeld(String opId, IngestOperation.Step step, String holder) {
        return updateHeld(opId, holder, stepSet(step, null));
    }

    /** The {@code $set} that records {@code step} (and the error that stopped it, or none) now. */
    private static JsonObject stepSet(IngestOperation.Step step, String lastError) {
        return new JsonObject()
                .put("step", step.name())
                .put("terminal", step.terminal())
                .put("updatedAt", Dates.toBson(Instant.now()))
                .put("lastError", lastError);
    }

    @Override
    public Future<Boolean> renewLease(String opId, String holder, Instant until) {
        return updateHeld(
                opId,
                holder,
                new JsonObject().put("leaseUntil", Dates.toBson(until)).put("updatedAt", Dates.toBson(Instant.now())));
    }

    private Future<Boolean> updateHeld(String opId, String holder, JsonObject set) {
        JsonObject held =
                new JsonObject().put("_id", opId).put("leaseOwner", holder).put("terminal", false);
        return client.updateCollection(OPS, held, new JsonObject().put("$set", set))
                .recover(MongoMetadataStore::failed)
                .map(result -> result.getDocMatched() == 1);
    }

    @Override
    public Future<IngestOperation> claimStale(String owner, Instant olderThan, Duration lease) {
        Instant now = Instant.now();
        JsonObject query = new JsonObject()
                .put("terminal", false)
                .put("updatedAt", new JsonObject().put("$lt", Dates.toBson(olderThan)))
                .put(
                        "$or",
                        new JsonArray()
                                .add(new JsonObject().put("leaseUntil", (Object) null))
                                .add(new JsonObject()
                                        .put("leaseUntil", new JsonObject().put("$lt", Dates.toBson(now)))));
        JsonObject update = new JsonObject()
                .put("$set", new JsonObject().put("leaseOwner", owner).put("leaseUntil", Dates.toBson(now.plus(lease))))
                .put("$inc", new JsonObject().put("claims", 1));
        return client.findOneAndUpdateWithOptions(
                        OPS,
                        query,
                        update,
                        new FindOptions().setSort(new JsonObject().put("updatedAt", 1)),
                        new UpdateOptions().setReturningNewDocument(true))
                .recover(MongoMetadataStore::failed)
                .map(doc -> doc == null ? null : IngestOperation.fromDocument(doc));
    }

    @Override
    public Future<Void> releaseKey(String tenantId, String key) {
        return client.removeDocument(KEYS, new JsonObject().put("_id", keyId(tenantId, key)))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Long> countOpen(String tenantId) {
        JsonObject query = new JsonObject().put("terminal", false);
        if (tenantId != null) {
            query.put("tenantId", tenantId);
        }
        return client.count(OPS, query).recover(MongoMetadataStore::failed);
    }

    private static String keyId(String tenantId, String key) {
        return tenantId + "\u0000" + key;
    }
}
