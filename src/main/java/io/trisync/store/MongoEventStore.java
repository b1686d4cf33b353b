package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link EventStore} on vertx-mongo-client. */
public final class MongoEventStore implements EventStore {

    private static final Logger LOG = LoggerFactory.getLogger(MongoEventStore.class);

    static final String EVENTS = "events";
    static final String COUNTERS = "event_counters";
    /** A stored event's own {@code _id} ({@code tenant:seq}), besides the {@link Event}'s fields. */
    static final String LOG_ID = "_id";
    /** The fields of a tenant's counter: the tenant ({@code _id}) and the last number given. */
    static final String COUNTER_TENANT = "_id";

    static final String COUNTER_SEQ = "seq";
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
                        new JsonObject().put(Event.TENANT_ID, 1).put(Event.SEQ, 1),
                        new IndexOptions().name("tenant_seq"))
                .compose(v -> client.createIndexWithOptions(
                        EVENTS, new JsonObject().put(Event.AT, -1), new IndexOptions().name("by_time")))
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Event> append(String tenantId, Event event) {
        return appendAll(tenantId, List.of(event)).map(stored -> stored.get(0));
    }

    @Override
    public Future<Long> reserve(String tenantId, int count) {
        return client.findOneAndUpdateWithOptions(
                        COUNTERS,
                        new JsonObject().put(COUNTER_TENANT, tenantId),
                        new JsonObject().put("$inc", new JsonObject().put(COUNTER_SEQ, (long) count)),
                        new FindOptions(),
                        new UpdateOptions().setUpsert(true).setReturningNewDocument(true))
                .recover(MongoErrors::failed)
                .map(counter -> counter.getLong(COUNTER_SEQ));
    }

    @Override
    public Future<Void> insert(String tenantId, List<Event> numbered) {
        if (numbered.isEmpty()) {
            return Future.succeededFuture();
        }
        List<BulkOperation> inserts = new ArrayList<>(numbered.size());
        for (Event event : numbered) {
            inserts.add(BulkOperation.createInsert(event.toJson().put(LOG_ID, tenantId + ":" + event.seq())));
        }
        long first = numbered.get(0).seq();
        long last = numbered.get(numbered.size() - 1).seq();
        // The events are logged once the insert succeeds: a trim that fails is retried at a later append.
        return client.bulkWrite(EVENTS, inserts)
                .recover(MongoErrors::failed)
                .compose(r -> trim(tenantId, first - 1, last).recover(e -> {
                    LOG.warn("Trimming the event log of {} failed: {}", tenantId, e.toString());
                    return Future.succeededFuture();
                }));
    }

    @Override
    public Future<List<Event>> recent(String tenantId, int limit) {
        JsonObject query = tenantId == null ? new JsonObject() : new JsonObject().put(Event.TENANT_ID, tenantId);
        JsonObject sort = tenantId == null
                ? new JsonObject().put(Event.AT, -1).put(Event.SEQ, -1)
                : new JsonObject().put(Event.SEQ, -1);
        return find(query, new FindOptions().setSort(sort).setLimit(limit));
    }

    @Override
    public Future<List<Event>> since(String tenantId, long afterSeq, int limit) {
        JsonObject query =
                new JsonObject().put(Event.TENANT_ID, tenantId).put(Event.SEQ, new JsonObject().put("$gt", afterSeq));
        return find(
                query,
                new FindOptions().setSort(new JsonObject().put(Event.SEQ, 1)).setLimit(limit));
    }

    @Override
    public Future<Long> lastSeq(String tenantId) {
        return client.findOne(COUNTERS, new JsonObject().put(COUNTER_TENANT, tenantId), null)
                .recover(MongoErrors::failed)
                .map(counter ->
                        counter == null || counter.getLong(COUNTER_SEQ) == null ? 0L : counter.getLong(COUNTER_SEQ));
    }

    @Override
    public Future<Long> oldestSeq(String tenantId) {
        return find(
                        new JsonObject().put(Event.TENANT_ID, tenantId),
                        new FindOptions()
                                .setSort(new JsonObject().put(Event.SEQ, 1))
                                .setLimit(1))
                .map(docs -> docs.isEmpty() ? 0L : docs.get(0).seq());
    }

    private Future<List<Event>> find(JsonObject query, FindOptions options) {
        options.setFields(new JsonObject().put(LOG_ID, 0));
        return client.findWithOptions(EVENTS, query, options)
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(Event::fromJson).toList());
    }

    /** Trims when the appended range ({@code from}, {@code seq}] crossed a multiple of {@link #TRIM_EVERY}. */
    private Future<Void> trim(String tenantId, long from, long seq) {
        if (seq / TRIM_EVERY == from / TRIM_EVERY || seq <= retain) {
            return Future.succeededFuture();
        }
        return client.removeDocuments(
                        EVENTS,
                        new JsonObject()
                                .put(Event.TENANT_ID, tenantId)
                                .put(Event.SEQ, new JsonObject().put("$lte", seq - retain)))
                .mapEmpty();
    }

    @Override
    public Future<Long> removeBefore(Instant before) {
        // "at" is the ISO-8601 instant as published: its text orders like the time it names (to the second).
        return client.removeDocuments(
                        EVENTS, new JsonObject().put(Event.AT, new JsonObject().put("$lt", before.toString())))
                .recover(MongoErrors::failed)
                .map(r -> r.getRemovedCount());
    }

    @Override
    public Future<Boolean> logged(String tenantId, String opId) {
        return client.findOne(
                        EVENTS,
                        new JsonObject().put(Event.TENANT_ID, tenantId).put(Event.OP_ID, opId),
                        new JsonObject().put(LOG_ID, 1))
                .recover(MongoErrors::failed)
                .map(found -> found != null);
    }

    @Override
    public Future<List<Event>> ofFile(String tenantId, String fileId, int limit) {
        return find(
                new JsonObject().put(Event.TENANT_ID, tenantId).put(Event.FILE_ID, fileId),
                new FindOptions().setSort(new JsonObject().put(Event.SEQ, -1)).setLimit(limit));
    }
}
