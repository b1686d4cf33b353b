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
        return client.findOne(CHECKPOINTS, new JsonObject().put("_id", id(tenantId, partition)), null)
                .recover(MongoMetadataStore::failed)
                .map(d -> d == null
                        ? null
                        : new Checkpoint(
                                tenantId,
                                partition,
                                d.getString("model"),
                                d.getBoolean("all", false),
                                d.getString("lastFileId"),
                                d.getBoolean("done", false)));
    }

    @Override
    public Future<Void> save(Checkpoint c) {
        return client.save(
                        CHECKPOINTS,
                        new JsonObject()
                                .put("_id", id(c.tenantId(), c.partition()))
                                .put("tenantId", c.tenantId())
                                .put("partition", c.partition())
                                .put("model", c.model())
                                .put("all", c.all())
                                .put("lastFileId", c.lastFileId())
                                .put("done", c.done()))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> clear(String tenantId) {
        return client.removeDocuments(CHECKPOINTS, new JsonObject().put("tenantId", tenantId))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    /** Tenant ids never hold a space ({@link Ids}), so the pair is unambiguous. */
    private static String id(String tenantId, int partition) {
        return tenantId + " " + partition;
    }
}
