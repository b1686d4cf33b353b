package io.trisync.store;

import static io.qdrant.client.ConditionFactory.hasId;
import static io.qdrant.client.ConditionFactory.isEmpty;
import static io.qdrant.client.ConditionFactory.match;
import static io.qdrant.client.ConditionFactory.matchExceptKeywords;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.VectorsFactory.vectors;

import io.grpc.ManagedChannelBuilder;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.WithVectorsSelector;
import io.trisync.concurrent.GroupCommit;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** {@link VectorStore} on the official Qdrant Java client (gRPC). */
public final class QdrantVectorStore implements VectorStore {

    private static final int FILE_PAGE = 1000;
    private static final List<String> LISTED_FIELDS = List.of(
            ChunkPoint.TENANT_ID,
            ChunkPoint.FILE_ID,
            ChunkPoint.CHUNK,
            ChunkPoint.PARTITION,
            ChunkPoint.CONTENT_SHA256,
            ChunkPoint.MODEL);
    private static final List<String> SEARCHED_FIELDS = List.of(
            ChunkPoint.TENANT_ID,
            ChunkPoint.FILE_ID,
            ChunkPoint.CHUNK,
            ChunkPoint.PARTITION,
            ChunkPoint.CONTENT_SHA256,
            ChunkPoint.MODEL,
            ChunkPoint.TEXT);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Vertx vertx;
    private final QdrantClient client;
    private final String collection;
    private final io.grpc.ManagedChannel channel;
    private final int vectorSize;
    /** Whether this instance made the client (and closes it); a {@link #sibling} shares it. */
    private final boolean owner;
    /** Where points this service did not write are counted. */
    private final Metrics metrics;

    public QdrantVectorStore(Vertx vertx, TrisyncConfig.QdrantConfig config) {
        this(vertx, config, Metrics.none());
    }

    /** The store, every gRPC call timed on {@code metrics}. */
    public QdrantVectorStore(Vertx vertx, TrisyncConfig.QdrantConfig config, Metrics metrics) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.collection = config.collection();
        this.vectorSize = config.vectorSize();
        ManagedChannelBuilder<?> channel =
                ManagedChannelBuilder.forAddress(config.host(), config.port()).intercept(new QdrantTiming(metrics));
        if (config.useTls()) {
            channel.useTransportSecurity();
        } else {
            channel.usePlaintext();
        }
        this.channel = channel.build();
        QdrantGrpcClient.Builder grpc =
                QdrantGrpcClient.newBuilder(this.channel, true, false).withTimeout(TIMEOUT);
        if (!config.apiKey().isBlank()) {
            grpc.withApiKey(config.apiKey());
        }
        this.client = new QdrantClient(grpc.build());
        this.owner = true;
    }

    private QdrantVectorStore(QdrantVectorStore of, String collection, int vectorSize) {
        this.vertx = of.vertx;
        this.client = of.client;
        this.channel = of.channel;
        this.collection = collection;
        this.vectorSize = vectorSize;
        this.owner = false;
        this.metrics = of.metrics;
    }

    /** Counts a point met that trisync did not write. */
    private void foreign() {
        metrics.foreignPoint(collection);
    }

    /** The same Qdrant (one client) for another collection, of {@code vectorSize}-dimension vectors. */
    public QdrantVectorStore sibling(String otherCollection, int otherVectorSize) {
        return new QdrantVectorStore(this, otherCollection, otherVectorSize);
    }

    /** The collection's name. */
    public String collection() {
        return collection;
    }

    /** The vector size of the collection as Qdrant holds it, or null when it does not exist. */
    public Future<Integer> existingSize() {
        return call(client.collectionExistsAsync(collection, TIMEOUT))
                .compose(exists -> !exists
                        ? Future.succeededFuture(null)
                        : call(client.getCollectionInfoAsync(collection, TIMEOUT))
                                .map(info -> (int) info.getConfig()
                                        .getParams()
                                        .getVectorsConfig()
                                        .getParams()
                                        .getSize()));
    }

    /** The model named on one point of the collection, or null when it holds none. */
    public Future<String> anyModel() {
        ScrollPoints request = ScrollPoints.newBuilder()
                .setCollectionName(collection)
                .setLimit(1)
                .setWithPayload(WithPayloadSelectorFactory.include(List.of(ChunkPoint.MODEL)))
                .build();
        return call(client.scrollAsync(request, TIMEOUT))
                .map(r -> r.getResultCount() == 0
                        ? null
                        : QdrantPayloads.text(r.getResult(0).getPayloadMap(), ChunkPoint.MODEL));
    }

    /** Deletes the collection and every point in it; a collection that does not exist is dropped already. */
    public Future<Void> drop() {
        // The client fails a delete that Qdrant answers {@code false} (no such collection) with a bare
        // QdrantException: a collection already gone is dropped, anything else fails as it did.
        return call(client.deleteCollectionAsync(collection, TIMEOUT))
                .<Void>mapEmpty()
                .recover(e -> call(client.collectionExistsAsync(collection, TIMEOUT))
                        .compose(exists -> exists ? Future.failedFuture(e) : Future.succeededFuture()));
    }

    @Override
    public Future<Void> init() {
        return call(client.collectionExistsAsync(collection, TIMEOUT))
                .compose(exists -> exists ? Future.succeededFuture() : createCollection())
                .compose(v -> index(ChunkPoint.TENANT_ID, PayloadSchemaType.Keyword))
                .compose(v -> index(ChunkPoint.FILE_ID, PayloadSchemaType.Keyword))
                .compose(v -> index(ChunkPoint.PARTITION, PayloadSchemaType.Integer));
    }

    @Override
    public Future<Void> upsert(List<ChunkPoint> points) {
        if (points.isEmpty()) {
            return Future.succeededFuture();
        }
        return upserts.submit(points).mapEmpty();
    }

    /** At most this many upserts (each a file's points, up to a few hundred) go out in one request. */
    static final int UPSERT_GROUP = 16;

    /**
     * Upserts in flight at the same moment share one request (group commit), acknowledged once
     * Qdrant has applied it ({@code wait}); a failed one fails them all, each caller retries its own.
     */
    private final GroupCommit<List<ChunkPoint>, Integer> upserts =
            GroupCommit.whole(UPSERT_GROUP, 1, Failure::refused, this::upsertTogether);

    private Future<List<Integer>> upsertTogether(List<List<ChunkPoint>> lists) {
        List<PointStruct> structs = new ArrayList<>();
        for (List<ChunkPoint> points : lists) {
            for (ChunkPoint p : points) {
                structs.add(PointStruct.newBuilder()
                        .setId(id(p.id()))
                        .setVectors(vectors(p.vector()))
                        .putAllPayload(QdrantPayloads.of(p))
                        .build());
            }
        }
        UpsertPoints request = UpsertPoints.newBuilder()
                .setCollectionName(collection)
                .setWait(true)
                .addAllPoints(structs)
                .build();
        return call(client.upsertAsync(request, TIMEOUT)).map(r -> Collections.nCopies(lists.size(), 1));
    }

    @Override
    public Future<Void> deleteFile(String tenantId, String fileId) {
        return call(client.deleteAsync(collection, fileFilter(tenantId, fileId), TIMEOUT))
                .mapEmpty();
    }

    @Override
    public Future<Void> deleteContent(String tenantId, String fileId, String contentSha256) {
        Filter content = fileFilter(tenantId, fileId).toBuilder()
                .addMust(matchKeyword(ChunkPoint.CONTENT_SHA256, contentSha256))
                .build();
        return call(client.deleteAsync(collection, content, TIMEOUT)).mapEmpty();
    }

    @Override
    public Future<List<ChunkPoint>> pointsOf(String tenantId, String fileId) {
        List<ChunkPoint> out = new ArrayList<>();
        return pointsOf(fileFilter(tenantId, fileId), null, out).map(out);
    }

    private Future<Void> pointsOf(Filter filter, PointId offset, List<ChunkPoint> out) {
        ScrollPoints.Builder request = ScrollPoints.newBuilder()
                .setCollectionName(collection)
                .setFilter(filter)
                .setLimit(FILE_PAGE)
                .setWithPayload(WithPayloadSelectorFactory.include(LISTED_FIELDS))
                .setWithVectors(WithVectorsSelector.newBuilder().setEnable(false));
        if (offset != null) {
            request.setOffset(offset);
        }
        return call(client.scrollAsync(request.build(), TIMEOUT)).compose(r -> {
            out.addAll(QdrantPayloads.ours(r.getResultList(), false, collection, this::foreign));
            return r.hasNextPageOffset() ? pointsOf(filter, r.getNextPageOffset(), out) : Future.succeededFuture();
        });
    }

    @Override
    public Future<Void> deleteTenant(String tenantId) {
        return call(client.deleteAsync(collection, tenantFilter(tenantId, null), TIMEOUT))
                .mapEmpty();
    }

    private static Filter fileFilter(String tenantId, String fileId) {
        return Filter.newBuilder()
                .addMust(matchKeyword(ChunkPoint.TENANT_ID, tenantId))
                .addMust(matchKeyword(ChunkPoint.FILE_ID, fileId))
                .build();
    }

    @Override
    public Future<Void> delete(List<UUID> ids) {
        if (ids.isEmpty()) {
            return Future.succeededFuture();
        }
        List<PointId> pointIds = ids.stream().map(u -> id(u)).toList();
        return call(client.deleteAsync(collection, pointIds, TIMEOUT)).mapEmpty();
    }

    @Override
    public Future<Page<ChunkPoint>> scroll(String tenantId, Integer partition, String offset, int limit) {
        ScrollPoints.Builder request = ScrollPoints.newBuilder()
                .setCollectionName(collection)
                .setFilter(tenantFilter(tenantId, partition))
                .setLimit(limit)
                .setWithPayload(WithPayloadSelectorFactory.include(LISTED_FIELDS))
                .setWithVectors(WithVectorsSelector.newBuilder().setEnable(false));
        if (offset != null) {
            request.setOffset(QdrantPayloads.offset(offset));
        }
        return call(client.scrollAsync(request.build(), TIMEOUT)).map(r -> {
            List<ChunkPoint> ours = QdrantPayloads.ours(r.getResultList(), false, collection, this::foreign);
            return new Page<>(
                    ours,
                    r.hasNextPageOffset() ? QdrantPayloads.cursor(r.getNextPageOffset()) : null,
                    r.getResultCount() - ours.size());
        });
    }

    @Override
    public Future<List<String>> tenantsBesides(Collection<String> known, int max) {
        List<String> found = new ArrayList<>();
        return moreTenants(new HashSet<>(known), found, new ArrayList<>(), max).map(v -> found);
    }

    /**
     * One point of a tenant not in {@code excluded}, its tenant added to both sets; again until none or
     * {@code max}. A point whose {@code tenant_id} is no string (not one trisync wrote) names no tenant:
     * it is passed over ({@code passed}) and the search goes on.
     */
    private Future<Void> moreTenants(Set<String> excluded, List<String> found, List<PointId> passed, int max) {
        if (found.size() >= max || passed.size() >= max) {
            return Future.succeededFuture();
        }
        Filter.Builder filter = Filter.newBuilder();
        if (excluded.isEmpty()) {
            filter.addMustNot(isEmpty(ChunkPoint.TENANT_ID));
        } else {
            filter.addMust(matchExceptKeywords(ChunkPoint.TENANT_ID, List.copyOf(excluded)));
        }
        if (!passed.isEmpty()) {
            filter.addMustNot(hasId(passed));
        }
        ScrollPoints request = ScrollPoints.newBuilder()
                .setCollectionName(collection)
                .setFilter(filter)
                .setLimit(1)
                .setWithPayload(WithPayloadSelectorFactory.include(List.of(ChunkPoint.TENANT_ID)))
                .setWithVectors(WithVectorsSelector.newBuilder().setEnable(false))
                .build();
        return call(client.scrollAsync(request, TIMEOUT)).compose(r -> {
            if (r.getResultCount() == 0) {
                return Future.succeededFuture();
            }
            String tenant = QdrantPayloads.text(r.getResult(0).getPayloadMap(), ChunkPoint.TENANT_ID);
            if (tenant == null) {
                passed.add(r.getResult(0).getId());
                return moreTenants(excluded, found, passed, max);
            }
            if (!excluded.add(tenant)) {
                return Future.succeededFuture();
            }
            found.add(tenant);
            return moreTenants(excluded, found, passed, max);
        });
    }

    @Override
    public Future<List<ChunkPoint>> get(List<UUID> ids) {
        if (ids.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        return call(client.retrieveAsync(
                        collection,
                        ids.stream().map(u -> id(u)).toList(),
                        WithPayloadSelectorFactory.enable(true),
                        WithVectorsSelector.newBuilder().setEnable(true).build(),
                        null,
                        TIMEOUT))
                .map(points -> QdrantPayloads.ours(points, true, collection, this::foreign));
    }

    @Override
    public Future<Long> count(String tenantId, String fileId) {
        Filter.Builder filter = Filter.newBuilder().addMust(matchKeyword(ChunkPoint.TENANT_ID, tenantId));
        if (fileId != null) {
            filter.addMust(matchKeyword(ChunkPoint.FILE_ID, fileId));
        }
        return call(client.countAsync(collection, filter.build(), true, TIMEOUT));
    }

    @Override
    public Future<List<Scored>> search(String tenantId, float[] vector, int k) {
        SearchPoints.Builder request = SearchPoints.newBuilder()
                .setCollectionName(collection)
                .setFilter(tenantFilter(tenantId, null))
                .setLimit(k)
                .setWithPayload(WithPayloadSelectorFactory.include(SEARCHED_FIELDS));
        for (float x : vector) {
            request.addVector(x);
        }
        // A hit on a point this service did not write names no file it could check: never returned.
        return call(client.searchAsync(request.build(), TIMEOUT)).map(hits -> hits.stream()
                .filter(h -> {
                    boolean ours = QdrantPayloads.ours(h.getId(), h.getPayloadMap());
                    if (!ours) {
                        foreign();
                    }
                    return ours;
                })
                .map(h -> new Scored(
                        QdrantPayloads.point(UUID.fromString(h.getId().getUuid()), h.getPayloadMap(), null),
                        h.getScore()))
                .toList());
    }

    @Override
    public Future<Void> ping() {
        // A failed ping also ends gRPC's wait between reconnects (1 s growing to 2 min while Qdrant
        // is away), so the next call tries at once: Qdrant is found back as soon as it answers.
        return call(client.healthCheckAsync(Duration.ofSeconds(5)))
                .onFailure(e -> channel.resetConnectBackoff())
                .mapEmpty();
    }

    @Override
    public Future<Void> close() {
        if (!owner) {
            return Future.succeededFuture();
        }
        return vertx.executeBlocking(() -> {
            client.close();
            return null;
        });
    }

    private Future<Void> createCollection() {
        VectorParams params = VectorParams.newBuilder()
                .setSize(vectorSize)
                .setDistance(Distance.Cosine)
                .build();
        return call(client.createCollectionAsync(collection, params, TIMEOUT))
                .<Void>mapEmpty()
                // Another node created it first.
                .recover(e -> e instanceof Failure.Conflict ? Future.succeededFuture() : Future.failedFuture(e));
    }

    private Future<Void> index(String field, PayloadSchemaType type) {
        return call(client.createPayloadIndexAsync(collection, field, type, null, true, null, TIMEOUT))
                .mapEmpty();
    }

    private static Filter tenantFilter(String tenantId, Integer partition) {
        Filter.Builder filter = Filter.newBuilder().addMust(matchKeyword(ChunkPoint.TENANT_ID, tenantId));
        if (partition != null) {
            filter.addMust(match(ChunkPoint.PARTITION, partition));
        }
        return filter.build();
    }

    private <T> Future<T> call(com.google.common.util.concurrent.ListenableFuture<T> future) {
        return VertxFutures.fromListenable(vertx.getOrCreateContext(), future, QdrantErrors::translate);
    }
}
