package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.util.ArrayList;
import java.util.List;

/** {@link EventStore} on vertx-mongo-client. */
public final class MongoEventStore implements EventStore {

    static final String EVENTS = "events";
    static final String COUNTERS = "event_counters";
    /** Trim a tenant's log once every this many appends. */
    static final int TRIM_EVERY = 50;

    private final MongoClient client;
    private final int retain;

    public MongoEventStore(MongoClient client, int retain) {
        this.client = client;
        this.retain = retain;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        EVENTS,
                        new JsonObject().put("tenantId", 1).put("seq", 1),
                        new IndexOptions().name("tenant_seq"))
                .compose(v -> client.createIndexWithOptions(
                        EVENTS, new JsonObject().put("at", -1), new IndexOptions().name("by_time")))
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<JsonObject> append(String tenantId, JsonObject event) {
        return appendAll(tenantId, List.of(event)).map(stored -> stored.get(0));
    }

    @Override
    public Future<List<JsonObject>> appendAll(String tenantId, List<JsonObject> events) {
        int n = events.size();
        return client.findOneAndUpdateWithOptions(
                        COUNTERS,
                        new JsonObject().put("_id", tenantId),
                        new JsonObject().put("$inc", new JsonObject().put("seq", (long) n)),
                        new FindOptions(),
                        new UpdateOptions().setUpsert(true).setReturningNewDocument(true))
                .compose(counter -> {
                    long last = counter.getLong("seq");
                    List<JsonObject> stored = new ArrayList<>(n);
                    List<BulkOperation> inserts = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long seq = last - n + 1 + i;
                        JsonObject event = events.get(i).copy().put("seq", seq).put("tenantId", tenantId);
                        stored.add(event);
                        inserts.add(BulkOperation.createInsert(event.copy().put("_id", tenantId + ":" + seq)));
                    }
                    return client.bulkWrite(EVENTS, inserts)
                            .compose(r -> trim(tenantId, last - n, last))
                            .map(stored);
                })
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<List<JsonObject>> recent(String tenantId, int limit) {
        JsonObject query = tenantId == null ? new JsonObject() : new JsonObject().put("tenantId", tenantId);
        JsonObject sort =
                tenantId == null ? new JsonObject().put("at", -1).put("seq", -1) : new JsonObject().put("seq", -1);
        return find(query, new FindOptions().setSort(sort).setLimit(limit));
    }

    @Override
    public Future<List<JsonObject>> since(String tenantId, long afterSeq, int limit) {
        JsonObject query = new JsonObject().put("tenantId", tenantId).put("seq", new JsonObject().put("$gt", afterSeq));
        return find(
                query, new FindOptions().setSort(new JsonObject().put("seq", 1)).setLimit(limit));
    }

    @Override
    public Future<Long> oldestSeq(String tenantId) {
        return find(
                        new JsonObject().put("tenantId", tenantId),
                        new FindOptions()
                                .setSort(new JsonObject().put("seq", 1))
                                .setLimit(1))
                .map(docs -> docs.isEmpty() ? 0L : docs.get(0).getLong("seq"));
    }

    private Future<List<JsonObject>> find(JsonObject query, FindOptions options) {
        options.setFields(new JsonObject().put("_id", 0));
        return client.findWithOptions(EVENTS, query, options).recover(MongoMetadataStore::failed);
    }

    /** Trims when the appended range ({@code from}, {@code seq}] crossed a multiple of {@link #TRIM_EVERY}. */
    private Future<Void> trim(String tenantId, long from, long seq) {
        if (seq / TRIM_EVERY == from / TRIM_EVERY || seq <= retain) {
            return Future.succeededFuture();
        }
        return client.removeDocuments(
                        EVENTS,
                        new JsonObject()
                                .put("tenantId", tenantId)
                                .put("seq", new JsonObject().put("$lte", seq - retain)))
                .mapEmpty();
    }

    @Override
    public Future<Long> removeBefore(java.time.Instant before) {
        // "at" is the ISO-8601 instant as published: its text orders like the time it names (to the second).
        return client.removeDocuments(
                        EVENTS, new JsonObject().put("at", new JsonObject().put("$lt", before.toString())))
                .recover(MongoMetadataStore::failed)
                .map(r -> r.getRemovedCount());
    }

    @Override
    public Future<List<JsonObject>> ofFile(String tenantId, String fileId, int limit) {
        return find(
                new JsonObject().put("tenantId", tenantId).put("fileId", fileId),
                new FindOptions().setSort(new JsonObject().put("seq", -1)).setLimit(limit));
    }
}
