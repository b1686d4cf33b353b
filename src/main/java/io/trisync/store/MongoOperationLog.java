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
    /** How many claimable operations one claim tries when other nodes take them first. */
    private static final int CLAIM_ATTEMPTS = 5;

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
                .compose(v -> client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(IngestOperation.LEASE_KEY, 1),
                        new IndexOptions().name("held").unique(true).sparse(true)))
                .compose(v -> client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(IngestOperation.OPEN_FILE, 1),
                        new IndexOptions().name("open_file").unique(true).sparse(true)))
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
        return client.findOne(OPS, new JsonObject().put(IngestOperation.OPEN_FILE, fileId), null)
                .recover(MongoMetadataStore::failed)
                .map(doc -> doc == null ? null : IngestOperation.fromDocument(doc));
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
        return client.updateCollection(OPS, new JsonObject().put("_id", opId), stepUpdate(step, lastError))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Boolean> advanceIfHeld(String opId, IngestOperation.Step step, String holder) {
        return updateHeld(opId, holder, stepUpdate(step, null));
    }

    /** The update recording {@code step}: an operation that ended is held by nobody any more. */
    private static JsonObject stepUpdate(IngestOperation.Step step, String lastError) {
        JsonObject update = new JsonObject().put("$set", stepSet(step, lastError));
        if (step.terminal()) {
            update.getJsonObject("$set").putNull("leaseOwner").putNull("leaseUntil");
            update.put(
                    "$unset",
                    new JsonObject().put(IngestOperation.LEASE_KEY, "").put(IngestOperation.OPEN_FILE, ""));
        }
        return update;
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
                new JsonObject()
                        .put(
                                "$set",
                                new JsonObject()
                                        .put("leaseUntil", Dates.toBson(until))
                                        .put("updatedAt", Dates.toBson(Instant.now()))));
    }

    /** Applies {@code update} when {@code holder} holds the unfinished operation: by its lease key. */
    private Future<Boolean> updateHeld(String opId, String holder, JsonObject update) {
        JsonObject held = new JsonObject().put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, holder));
        return client.updateCollection(OPS, held, update)
                .recover(MongoMetadataStore::failed)
                .map(result -> result.getDocMatched() == 1);
    }

    /**
     * Finds the stalest claimable operation, then claims it with one find-and-modify that checks again
     * that it is still claimable: two nodes racing for it, one gets it and the other looks for the
     * next (a few times, then leaves the rest to its next sweep).
     */
    @Override
    public Future<IngestOperation> claimStale(String owner, Instant olderThan, Duration lease) {
        return claimStale(owner, olderThan, lease, CLAIM_ATTEMPTS);
    }

    private Future<IngestOperation> claimStale(String owner, Instant olderThan, Duration lease, int attempts) {
        Instant now = Instant.now();
        FindOptions stalest = new FindOptions()
                .setSort(new JsonObject().put("updatedAt", 1))
                .setLimit(1)
                .setFields(new JsonObject().put("_id", 1));
        return client.findWithOptions(OPS, claimable(olderThan, now), stalest)
                .recover(MongoMetadataStore::failed)
                .compose(found -> {
                    if (found.isEmpty()) {
                        return Future.succeededFuture(null);
                    }
                    String id = found.get(0).getString("_id");
                    JsonObject update = new JsonObject()
                            .put(
                                    "$set",
                                    new JsonObject()
                                            .put("leaseOwner", owner)
                                            .put("leaseUntil", Dates.toBson(now.plus(lease)))
                                            .put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(id, owner)))
                            .put("$inc", new JsonObject().put("claims", 1));
                    return client.findOneAndUpdateWithOptions(
                                    OPS,
                                    claimable(olderThan, now).put("_id", id),
                                    update,
                                    new FindOptions(),
                                    new UpdateOptions().setReturningNewDocument(true))
                            .recover(MongoMetadataStore::failed)
                            .compose(doc -> doc != null
                                    ? Future.succeededFuture(IngestOperation.fromDocument(doc))
                                    : attempts > 1
                                            ? claimStale(owner, olderThan, lease, attempts - 1)
                                            : Future.succeededFuture(null));
                });
    }

    /** Unfinished, untouched since {@code olderThan}, and nobody's lease running at {@code now}. */
    private static JsonObject claimable(Instant olderThan, Instant now) {
        return new JsonObject()
                .put("terminal", false)
                .put("updatedAt", new JsonObject().put("$lt", Dates.toBson(olderThan)))
                .put(
                        "$or",
                        new JsonArray()
                                .add(new JsonObject().put("leaseUntil", (Object) null))
                                .add(new JsonObject()
                                        .put("leaseUntil", new JsonObject().put("$lt", Dates.toBson(now)))));
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
