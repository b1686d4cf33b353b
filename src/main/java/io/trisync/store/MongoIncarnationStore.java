package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/** {@link IncarnationStore} on vertx-mongo-client. */
public final class MongoIncarnationStore implements IncarnationStore {

    static final String INCARNATIONS = "node_incarnations";

    private final MongoClient client;

    public MongoIncarnationStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> register(Incarnation incarnation) {
        return client.insert(INCARNATIONS, incarnation.toDocument())
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> heartbeat(String id, Instant at) {
        return set(id, new JsonObject().put(Incarnation.HEARTBEAT_AT, Dates.toBson(at)));
    }

    @Override
    public Future<Void> end(String id, Instant at) {
        return set(
                id,
                new JsonObject()
                        .put(Incarnation.ENDED_AT, Dates.toBson(at))
                        .put(Incarnation.HEARTBEAT_AT, Dates.toBson(at)));
    }

    @Override
    public Future<List<Incarnation>> find(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        JsonObject query =
                new JsonObject().put(Incarnation.ID, new JsonObject().put("$in", new JsonArray(List.copyOf(ids))));
        return client.find(INCARNATIONS, query)
                .recover(MongoErrors::failed)
                .map(docs -> docs.stream().map(Incarnation::fromDocument).toList());
    }

    @Override
    public Future<Long> prune(Instant before) {
        JsonObject query =
                new JsonObject().put(Incarnation.HEARTBEAT_AT, new JsonObject().put("$lt", Dates.toBson(before)));
        return client.removeDocuments(INCARNATIONS, query)
                .recover(MongoErrors::failed)
                .map(r -> r == null ? 0L : r.getRemovedCount());
    }

    private Future<Void> set(String id, JsonObject fields) {
        return client.updateCollection(
                        INCARNATIONS, new JsonObject().put(Incarnation.ID, id), new JsonObject().put("$set", fields))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }
}
