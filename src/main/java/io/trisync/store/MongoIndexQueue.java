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
                        JOBS, new JsonObject().put(IndexJob.NEXT_ATTEMPT_AT, 1), new IndexOptions().name("due"))
                .compose(v -> client.createIndexWithOptions(
                        JOBS,
                        new JsonObject().put(IndexJob.TENANT_ID, 1).put(IndexJob.PARTITION, 1),
                        new IndexOptions().name("by_partition")))
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> enqueue(IndexJob job) {
        return client.save(JOBS, job.toDocument()).<Void>mapEmpty().recover(MongoErrors::failed);
    }

    @Override
    public Future<IndexJob> claimDue(String holder, Instant now, Instant until) {
        JsonObject free = new JsonObject()
                .put(IndexJob.NEXT_ATTEMPT_AT, new JsonObject().put("$lte", Dates.toBson(now)))
                .put(
                        "$or",
                        new JsonArray()
                                .add(new JsonObject().put(IndexJob.LEASE_UNTIL, (Object) null))
                                .add(new JsonObject()
                                        .put(IndexJob.LEASE_UNTIL, new JsonObject().put("$lt", Dates.toBson(now)))));
        JsonObject take = new JsonObject()
                .put(
                        "$set",
                        new JsonObject()
                                .put(IndexJob.LEASE_OWNER, holder)
                                .put(IndexJob.LEASE_UNTIL, Dates.toBson(until)));
        return client.findOneAndUpdateWithOptions(
                        JOBS,
                        free,
                        take,
                        new FindOptions().setSort(new JsonObject().put(IndexJob.NEXT_ATTEMPT_AT, 1)),
                        new UpdateOptions().setReturningNewDocument(true))
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : IndexJob.fromDocument(doc));
    }

    @Override
    public Future<Boolean> renew(String fileId, String holder, Instant until) {
        return client.updateCollection(
                        JOBS,
                        new JsonObject().put(IndexJob.ID, fileId).put(IndexJob.LEASE_OWNER, holder),
                        new JsonObject().put("$set", new JsonObject().put(IndexJob.LEASE_UNTIL, Dates.toBson(until))))
                .recover(MongoErrors::failed)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Set<String>> holders(Instant now) {
        return MongoGroups.values(
                client,
                JOBS,
                new JsonObject().put(IndexJob.LEASE_UNTIL, new JsonObject().put("$gte", Dates.toBson(now))),
                IndexJob.LEASE_OWNER);
    }

    @Override
    public Future<Long> release(String holder) {
        return client.updateCollectionWithOptions(
                        JOBS,
                        new JsonObject().put(IndexJob.LEASE_OWNER, holder),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject()
                                                .putNull(IndexJob.LEASE_OWNER)
                                                .putNull(IndexJob.LEASE_UNTIL)),
                        new UpdateOptions().setMulti(true))
                .recover(MongoErrors::failed)
                .map(r -> r == null ? 0L : r.getDocModified());
    }

    @Override
    public Future<Void> retryLater(String fileId, String holder, Instant next, String error) {
        return giveBack(
                fileId,
                holder,
                new JsonObject().put(IndexJob.LAST_ERROR, error),
                new JsonObject().put("$inc", new JsonObject().put(IndexJob.ATTEMPTS, 1)),
                next);
    }

    @Override
    public Future<Void> putOff(String fileId, String holder, Instant next) {
        return giveBack(fileId, holder, new JsonObject(), new JsonObject(), next);
    }

    /** Ends {@code holder}'s lease of the file's job, due again at {@code next}, with {@code set} and {@code update}. */
    private Future<Void> giveBack(String fileId, String holder, JsonObject set, JsonObject update, Instant next) {
        return client.updateCollection(
                        JOBS,
                        new JsonObject().put(IndexJob.ID, fileId).put(IndexJob.LEASE_OWNER, holder),
                        update.copy()
                                .put(
                                        "$set",
                                        set.copy()
                                                .put(IndexJob.NEXT_ATTEMPT_AT, Dates.toBson(next))
                                                .putNull(IndexJob.LEASE_OWNER)
                                                .putNull(IndexJob.LEASE_UNTIL)))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<IndexJob> get(String fileId) {
        return client.findOne(JOBS, new JsonObject().put(IndexJob.ID, fileId), null)
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : IndexJob.fromDocument(doc));
    }

    @Override
    public Future<Void> remove(String fileId) {
        return client.removeDocument(JOBS, new JsonObject().put(IndexJob.ID, fileId))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Set<String>> filesIn(String tenantId, int partition) {
        return client.findWithOptions(
                        JOBS,
                        new JsonObject().put(IndexJob.TENANT_ID, tenantId).put(IndexJob.PARTITION, partition),
                        new FindOptions().setFields(new JsonObject().put(IndexJob.ID, 1)))
                .recover(MongoErrors::failed)
                .map(docs -> {
                    Set<String> ids = new HashSet<>();
                    docs.forEach(d -> ids.add(d.getString(IndexJob.ID)));
                    return ids;
                });
    }

    @Override
    public Future<Counts> count(String tenantId, Instant now) {
        JsonObject tenant = new JsonObject().put(IndexJob.TENANT_ID, tenantId);
        return Future.all(
                        client.count(JOBS, tenant),
                        client.count(
                                JOBS,
                                tenant.copy()
                                        .put(IndexJob.LEASE_UNTIL, new JsonObject().put("$gte", Dates.toBson(now)))))
                .recover(MongoErrors::failed)
                .map(all -> new Counts(all.<Long>resultAt(0), all.<Long>resultAt(1)));
    }
}
