package io.trisync.store;

import io.trisync.store.ReindexCheckpoints.Skipped;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.List;

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
                .map(d -> d == null ? null : fromDocument(tenantId, d));
    }

    @Override
    public Future<List<Checkpoint>> list(String tenantId) {
        return client.find(CHECKPOINTS, new JsonObject().put(Checkpoint.TENANT_ID, tenantId))
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(d -> fromDocument(tenantId, d)).toList());
    }

    @Override
    public Future<Void> save(Checkpoint c) {
        JsonArray skipped = new JsonArray();
        c.skippedFiles()
                .forEach(s -> skipped.add(
                        new JsonObject().put(Skipped.FILE_ID, s.fileId()).put(Skipped.REASON, s.reason())));
        return client.save(
                        CHECKPOINTS,
                        new JsonObject()
                                .put(Checkpoint.ID, id(c.tenantId(), c.partition()))
                                .put(Checkpoint.TENANT_ID, c.tenantId())
                                .put(Checkpoint.PARTITION, c.partition())
                                .put(Checkpoint.MODEL, c.model())
                                .put(Checkpoint.ALL, c.all())
                                .put(Checkpoint.LAST_FILE_ID, c.lastFileId())
                                .put(Checkpoint.DONE, c.done())
                                .put(Checkpoint.FILES, c.files())
                                .put(Checkpoint.CHUNKS, c.chunks())
                                .put(Checkpoint.SKIPPED, c.skipped())
                                .put(Checkpoint.SKIPPED_FILES, skipped)
                                .put(Checkpoint.RUNS, new JsonArray(new ArrayList<>(c.runs())))
                                .put(Checkpoint.PENDING, new JsonArray(new ArrayList<>(c.pending()))))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> clear(String tenantId) {
        return client.removeDocuments(CHECKPOINTS, new JsonObject().put(Checkpoint.TENANT_ID, tenantId))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    /** A stored checkpoint; one written before the counts were kept counts nothing behind it. */
    private static Checkpoint fromDocument(String tenantId, JsonObject d) {
        List<Skipped> skipped = new ArrayList<>();
        JsonArray stored = d.getJsonArray(Checkpoint.SKIPPED_FILES, new JsonArray());
        for (int i = 0; i < stored.size(); i++) {
            JsonObject s = stored.getJsonObject(i);
            skipped.add(new Skipped(s.getString(Skipped.FILE_ID), s.getString(Skipped.REASON)));
        }
        List<String> runs = new ArrayList<>();
        d.getJsonArray(Checkpoint.RUNS, new JsonArray()).forEach(r -> runs.add(String.valueOf(r)));
        List<String> pending = new ArrayList<>();
        d.getJsonArray(Checkpoint.PENDING, new JsonArray()).forEach(r -> pending.add(String.valueOf(r)));
        return new Checkpoint(
                tenantId,
                d.getInteger(Checkpoint.PARTITION, 0),
                d.getString(Checkpoint.MODEL),
                d.getBoolean(Checkpoint.ALL, false),
                d.getString(Checkpoint.LAST_FILE_ID),
                d.getBoolean(Checkpoint.DONE, false),
                d.getLong(Checkpoint.FILES, 0L),
                d.getLong(Checkpoint.CHUNKS, 0L),
                d.getLong(Checkpoint.SKIPPED, 0L),
                skipped,
                runs,
                pending);
    }

    /** Tenant ids never hold a space ({@link Ids}), so the pair is unambiguous. */
    private static String id(String tenantId, int partition) {
        return tenantId + " " + partition;
    }
}
