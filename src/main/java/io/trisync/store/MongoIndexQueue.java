package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/** {@link IndexQueue} in the MongoDB collection {@code index_jobs}, one document per file ({@code _id} its id). */
public final class MongoIndexQueue implements IndexQueue {

    static final String JOBS = "index_jobs";

    private final MongoClient client;

    public MongoIndexQueue(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        JOBS, new JsonObject().put("nextAttemptAt", 1), new IndexOptions().name("due"))
                .compose(v -> client.createIndexWithOptions(
                        JOBS,
                        new JsonObject().put("tenantId", 1).put("partition", 1),
                        new IndexOptions().name("by_partition")))
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> enqueue(IndexJob job) {
        return client.save(JOBS, job.toDocument()).<Void>mapEmpty().recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<IndexJob> claimDue(String holder, Instant now, Instant until) {
        JsonObject free = new JsonObject()
                .put("nextAttemptAt", new JsonObject().put("$lte", Dates.toBson(now)))
                .put(
                        "$or",
                        new JsonArray()
                                .add(new JsonObject().put("leaseUntil", (Object) null))
                                .add(new JsonObject()
                                        .put("leaseUntil", new JsonObject().put("$lt", Dates.toBson(now)))));
        JsonObject take = new JsonObject()
                .put("$set", new JsonObject().put("leaseOwner", holder).put("leaseUntil", Dates.toBson(until)));
        return client.findOneAndUpdateWithOptions(
                        JOBS,
                        free,
                        take,
                        new FindOptions().setSort(new JsonObject().put("nextAttemptAt", 1)),
                        new UpdateOptions().setReturningNewDocument(true))
                .recover(MongoMetadataStore::failed)
                .map(doc -> doc == null ? null : IndexJob.fromDocument(doc));
    }

    @Override
    public Future<Set<String>> holders(Instant now) {
        return MongoGroups.values(
                client,
                JOBS,
                new JsonObject().put("leaseUntil", new JsonObject().put("$gte", Dates.toBson(now))),
                "leaseOwner");
    }

    @Override
    public Future<Long> release(String holder) {
        return client.updateCollectionWithOptions(
                        JOBS,
                        new JsonObject().put("leaseOwner", holder),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject().putNull("leaseOwner").putNull("leaseUntil")),
                        new UpdateOptions().setMulti(true))
                .recover(MongoMetadataStore::failed)
                .map(r -> r == null ? 0L : r.getDocModified());
    }

    @Override
    public Future<Void> retryLater(String fileId, String holder, Instant next, String error) {
        return client.updateCollection(
                        JOBS,
                        new JsonObject().put("_id", fileId).put("leaseOwner", holder),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject()
                                                .put("nextAttemptAt", Dates.toBson(next))
                                                .put("lastError", error)
                                                .putNull("leaseOwner")
                                                .putNull("leaseUntil"))
                                .put("$inc", new JsonObject().put("attempts", 1)))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<IndexJob> get(String fileId) {
        return client.findOne(JOBS, new JsonObject().put("_id", fileId), null)
                .recover(MongoMetadataStore::failed)
                .map(doc -> doc == null ? null : IndexJob.fromDocument(doc));
    }

    @Override
    public Future<Void> remove(String fileId) {
        return client.removeDocument(JOBS, new JsonObject().put("_id", fileId))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Set<String>> filesIn(String tenantId, int partition) {
        return client.findWithOptions(
                        JOBS,
                        new JsonObject().put("tenantId", tenantId).put("partition", partition),
                        new FindOptions().setFields(new JsonObject().put("_id", 1)))
                .recover(MongoMetadataStore::failed)
                .map(docs -> {
                    Set<String> ids = new HashSet<>();
                    docs.forEach(d -> ids.add(d.getString("_id")));
                    return ids;
                });
    }

    @Override
    public Future<Counts> count(String tenantId, Instant now) {
        JsonObject tenant = new JsonObject().put("tenantId", tenantId);
        return Future.all(
                        client.count(JOBS, tenant),
                        client.count(
                                JOBS, tenant.copy().put("leaseUntil", new JsonObject().put("$gte", Dates.toBson(now)))))
                .recover(MongoMetadataStore::failed)
                .map(all -> new Counts(all.<Long>resultAt(0), all.<Long>resultAt(1)));
    }
}
