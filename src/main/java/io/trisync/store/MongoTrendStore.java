package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link TrendStore} in MongoDB: samples in {@code trend_samples} ({@code at} a BSON date), each
 * tenant's latest in {@code trend_latest} ({@code _id} = tenant), from which the sum over all
 * tenants is made, stamped with the time it was made.
 */
public final class MongoTrendStore implements TrendStore {

    static final String SAMPLES = "trend_samples";
    static final String LATEST = "trend_latest";
    /** A latest sample's {@code _id}: its scope (the sample's own fields besides). */
    static final String LATEST_SCOPE = "_id";

    private final MongoClient client;

    public MongoTrendStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        SAMPLES, new JsonObject().put(Sample.SCOPE, 1).put(Sample.AT, 1), new IndexOptions())
                .recover(MongoErrors::failed)
                .mapEmpty();
    }

    @Override
    public Future<Void> append(Sample sample) {
        return client.insert(SAMPLES, stored(sample))
                .compose(id -> client.replaceDocumentsWithOptions(
                        LATEST,
                        new JsonObject().put(LATEST_SCOPE, sample.scope()),
                        stored(sample).put(LATEST_SCOPE, sample.scope()),
                        new UpdateOptions().setUpsert(true)))
                .compose(r -> client.find(LATEST, new JsonObject()))
                .compose(latest -> {
                    List<Sample> each = new ArrayList<>();
                    latest.forEach(d -> each.add(read(d)));
                    return client.insert(SAMPLES, stored(Sample.sum(ALL, Instant.now(), each)));
                })
                .compose(id -> trim(sample.scope()))
                .compose(v -> trim(ALL))
                .recover(MongoErrors::failed);
    }

    private static JsonObject stored(Sample sample) {
        return sample.toDocument().put(Sample.AT, Dates.toBson(sample.at()));
    }

    private static Sample read(JsonObject doc) {
        JsonObject d = doc.copy();
        d.put(Sample.AT, Dates.fromBson(doc.getValue(Sample.AT)).toString());
        return Sample.fromDocument(d);
    }

    /** Removes the samples of {@code scope} older than its {@link #KEPT} newest. */
    private Future<Void> trim(String scope) {
        JsonObject ofScope = new JsonObject().put(Sample.SCOPE, scope);
        return client.findWithOptions(
                        SAMPLES,
                        ofScope,
                        new FindOptions()
                                .setSort(new JsonObject().put(Sample.AT, -1))
                                .setSkip(KEPT)
                                .setLimit(1))
                .compose(beyond -> beyond.isEmpty()
                        ? Future.succeededFuture()
                        : client.removeDocuments(
                                        SAMPLES,
                                        ofScope.copy()
                                                .put(
                                                        Sample.AT,
                                                        new JsonObject()
                                                                .put(
                                                                        "$lte",
                                                                        beyond.get(0)
                                                                                .getValue(Sample.AT))))
                                .mapEmpty());
    }

    @Override
    public Future<List<Sample>> recent(String scope, int limit) {
        return client.findWithOptions(
                        SAMPLES,
                        new JsonObject().put(Sample.SCOPE, scope),
                        new FindOptions()
                                .setSort(new JsonObject().put(Sample.AT, -1))
                                .setLimit(limit))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> {
                    List<Sample> out = new ArrayList<>();
                    for (int i = docs.size() - 1; i >= 0; i--) {
                        out.add(read(docs.get(i)));
                    }
                    return out;
                });
    }
}
