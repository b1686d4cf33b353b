package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;

/** {@link ReindexCheckpoints} in the MongoDB collection {@code reindex_checkpoints}, {@code _id} = tenant and partition. */
public final class MongoReindexCheckpoints implements ReindexCheckpoints {

    static final String CHECKPOINTS = "reindex_checkpoints";

    private final MongoClient client;

    public MongoReindexCheckpoints(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return Future.succeededFuture();
    }

    @Override
    public Future<Checkpoint> get(String tenantId, int partition) {
        return client.findOne(CHECKPOINTS, new JsonObject().put(Checkpoint.ID, id(tenantId, partition)), null)
                .recover(MongoErrors::failed)
                .map(d -> d == null
                        ? null
                        : new Checkpoint(
                                tenantId,
                                partition,
                                d.getString(Checkpoint.MODEL),
                                d.getBoolean(Checkpoint.ALL, false),
                                d.getString(Checkpoint.LAST_FILE_ID),
                                d.getBoolean(Checkpoint.DONE, false)));
    }

    @Override
    public Future<Void> save(Checkpoint c) {
        return client.save(
                        CHECKPOINTS,
                        new JsonObject()
                                .put(Checkpoint.ID, id(c.tenantId(), c.partition()))
                                .put(Checkpoint.TENANT_ID, c.tenantId())
                                .put(Checkpoint.PARTITION, c.partition())
                                .put(Checkpoint.MODEL, c.model())
                                .put(Checkpoint.ALL, c.all())
                                .put(Checkpoint.LAST_FILE_ID, c.lastFileId())
                                .put(Checkpoint.DONE, c.done()))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> clear(String tenantId) {
        return client.removeDocuments(CHECKPOINTS, new JsonObject().put(Checkpoint.TENANT_ID, tenantId))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    /** Tenant ids never hold a space ({@link Ids}), so the pair is unambiguous. */
    private static String id(String tenantId, int partition) {
        return tenantId + " " + partition;
    }
}
