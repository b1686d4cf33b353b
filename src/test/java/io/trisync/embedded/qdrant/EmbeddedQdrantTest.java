package io.trisync.embedded.qdrant;

import static io.qdrant.client.ConditionFactory.match;
import static io.qdrant.client.ConditionFactory.matchExceptKeywords;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ConditionFactory.range;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.QueryFactory.nearest;
import static io.qdrant.client.ValueFactory.value;
import static io.qdrant.client.VectorsFactory.vectors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.RecommendPoints;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.PointsGrpc;
import io.trisync.testsupport.TestStack;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The embedded server answers the official Java client as Qdrant's documentation says Qdrant does. */
@Timeout(120)
class EmbeddedQdrantTest {

    private static EmbeddedQdrant server;
    private static QdrantClient client;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddedQdrant.start(0, null, "");
        client = new QdrantClient(
                QdrantGrpcClient.newBuilder("127.0.0.1", server.port(), false).build());
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static String collection(int size, Distance distance) throws Exception {
        String name = TestStack.unique("c");
        get(client.createCollectionAsync(
                name,
                VectorParams.newBuilder().setSize(size).setDistance(distance).build()));
        return name;
    }

    private static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static PointStruct point(
            PointId id, Map<String, io.qdrant.client.grpc.JsonWithInt.Value> payload, float... vector) {
        return PointStruct.newBuilder()
                .setId(id)
                .setVectors(vectors(vector))
                .putAllPayload(payload)
                .build();
    }

    private static Status.Code codeOf(Throwable t) {
        return ((StatusRuntimeException) t).getStatus().getCode();
    }

    @Test
    @DisplayName("Collections: create, exists, info, list, delete; a duplicate name is ALREADY_EXISTS")
    void collectionLifecycle() throws Exception {
        String name = collection(4, Distance.Dot);
        assertThat(get(client.collectionExistsAsync(name))).isTrue();
        assertThat(get(client.listCollectionsAsync())).contains(name);
        var info = get(client.getCollectionInfoAsync(name));
        assertThat(info.getConfig().getParams().getVectorsConfig().getParams().getSize())
                .isEqualTo(4);
        assertThat(info.getConfig().getParams().getVectorsConfig().getParams().getDistance())
                .isEqualTo(Distance.Dot);
        assertThat(info.getPointsCount()).isZero();
        assertThatThrownBy(() -> get(client.createCollectionAsync(
                        name,
                        VectorParams.newBuilder()
                                .setSize(4)
                                .setDistance(Distance.Dot)
                                .build())))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.ALREADY_EXISTS));
        get(client.deleteCollectionAsync(name));
        assertThat(get(client.collectionExistsAsync(name))).isFalse();
        assertThatThrownBy(() -> get(client.getCollectionInfoAsync(name)))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    @DisplayName("UUID and numeric ids: numeric ids come first, UUIDs are normalised and ordered by value")
    void uuidAndNumericIds() throws Exception {
        String name = collection(2, Distance.Cosine);
        UUID u1 = UUID.fromString("00000000-0000-0000-0000-000000000002");
        UUID u2 = UUID.fromString("ffffffff-0000-0000-0000-000000000001");
        get(client.upsertAsync(
                name,
                List.of(
                        point(id(u2), Map.of(), 1, 0),
                        point(id(7), Map.of(), 1, 0),
                        point(id(u1), Map.of(), 1, 0),
                        point(id(3), Map.of(), 1, 0),
                        point(
                                PointId.newBuilder()
                                        .setUuid("AAAAAAAA-0000-0000-0000-000000000000")
                                        .build(),
                                Map.of(),
                                1,
                                0))));
        ScrollResponse all = get(client.scrollAsync(
                ScrollPoints.newBuilder().setCollectionName(name).setLimit(10).build()));
        assertThat(all.getResultList())
                .extracting(p -> p.getId().hasNum()
                        ? "n" + p.getId().getNum()
                        : p.getId().getUuid())
                .containsExactly("n3", "n7", u1.toString(), "aaaaaaaa-0000-0000-0000-000000000000", u2.toString());
        assertThat(all.hasNextPageOffset()).isFalse();
        assertThat(get(client.retrieveAsync(name, List.of(id(7), id(u1), id(99)), null)))
                .extracting(p -> p.getId().hasNum()
                        ? String.valueOf(p.getId().getNum())
                        : p.getId().getUuid())
                .containsExactly("7", u1.toString());
        assertThatThrownBy(() -> get(client.upsertAsync(
                        name,
                        List.of(point(PointId.newBuilder().setUuid("not-a-uuid").build(), Map.of(), 1, 0)))))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    @DisplayName("Filters: must, should, must_not, match any, except, integer match and range")
    void filters() throws Exception {
        String name = collection(2, Distance.Cosine);
        List<PointStruct> points = new ArrayList<>();
        String[] colors = {"red", "green", "blue"};
        for (int i = 0; i < 30; i++) {
            points.add(point(
                    id(i),
                    Map.of(
                            "color", value(colors[i % 3]),
                            "n", value(i),
                            "tags", io.qdrant.client.ValueFactory.list(List.of(value("t" + (i % 2)), value("all")))),
                    1,
                    i));
        }
        get(client.upsertAsync(name, points));
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMust(matchKeyword("color", "red"))
                                .build()))
                .containsExactlyElementsOf(idsWhere(0, 30, i -> i % 3 == 0));
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMust(matchKeyword("color", "red"))
                                .addMust(range(
                                        "n",
                                        Range.newBuilder().setGte(10).setLt(20).build()))
                                .build()))
                .containsExactly(12L, 15L, 18L);
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addShould(match("n", 1))
                                .addShould(match("n", 2))
                                .build()))
                .containsExactly(1L, 2L);
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMustNot(matchKeywords("color", List.of("red", "green")))
                                .build()))
                .containsExactlyElementsOf(idsWhere(0, 30, i -> i % 3 == 2));
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMust(matchExceptKeywords("color", List.of("red", "green")))
                                .build()))
                .containsExactlyElementsOf(idsWhere(0, 30, i -> i % 3 == 2));
        // An array field matches when any element matches.
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMust(matchKeyword("tags", "t1"))
                                .addMust(range("n", Range.newBuilder().setLte(5).build()))
                                .build()))
                .containsExactly(1L, 3L, 5L);
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMust(matchKeyword("color", "purple"))
                                .build()))
                .isEmpty();
        // A nested filter inside must_not.
        Filter inner =
                Filter.newBuilder().addMust(matchKeyword("color", "blue")).build();
        assertThat(ids(
                        name,
                        Filter.newBuilder()
                                .addMustNot(io.qdrant.client.ConditionFactory.filter(inner))
                                .addMust(range("n", Range.newBuilder().setLt(6).build()))
                                .build()))
                .containsExactly(0L, 1L, 3L, 4L);
    }

    private static List<Long> idsWhere(int from, int to, java.util.function.IntPredicate keep) {
        List<Long> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (keep.test(i)) {
                out.add((long) i);
            }
        }
        return out;
    }

    private List<Long> ids(String name, Filter filter) throws Exception {
        ScrollResponse r = get(client.scrollAsync(ScrollPoints.newBuilder()
                .setCollectionName(name)
                .setFilter(filter)
                .setLimit(1000)
                .build()));
        long count = get(client.countAsync(name, filter, true));
        List<Long> ids = r.getResultList().stream().map(p -> p.getId().getNum()).toList();
        assertThat(count).as("count agrees with scroll").isEqualTo(ids.size());
        return ids;
    }

    @Test
    @DisplayName("Scroll pages through 2,500 points returning each exactly once, with a filter too")
    void scrollReturnsEveryPointOnce() throws Exception {
        String name = collection(3, Distance.Cosine);
        List<PointStruct> batch = new ArrayList<>();
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 2500; i++) {
            UUID u = UUID.randomUUID();
            expected.add(u.toString());
            batch.add(point(id(u), Map.of("even", value(i % 2 == 0)), 1, 2, 3));
            if (batch.size() == 500) {
                get(client.upsertAsync(name, batch));
                batch.clear();
            }
        }
        Set<String> seen = new HashSet<>();
        PointId offset = null;
        int pages = 0;
        do {
            ScrollPoints.Builder req = ScrollPoints.newBuilder()
                    .setCollectionName(name)
                    .setLimit(128)
                    .setWithPayload(WithPayloadSelectorFactory.enable(false));
            if (offset != null) {
                req.setOffset(offset);
            }
            ScrollResponse page = get(client.scrollAsync(req.build()));
            for (RetrievedPoint p : page.getResultList()) {
                assertThat(seen.add(p.getId().getUuid())).as("seen once").isTrue();
                assertThat(p.getPayloadMap()).isEmpty();
            }
            offset = page.hasNextPageOffset() ? page.getNextPageOffset() : null;
            pages++;
        } while (offset != null);
        assertThat(seen).isEqualTo(expected);
        assertThat(pages).isEqualTo(20);
        Filter even = Filter.newBuilder()
                .addMust(io.qdrant.client.ConditionFactory.match("even", true))
                .build();
        assertThat(get(client.countAsync(name, even, true))).isEqualTo(1250);
        assertThat(get(client.countAsync(name))).isEqualTo(2500);
    }

    @Test
    @DisplayName("Cosine search ranks by normalised dot product, best first, with exact scores")
    void cosineSearch() throws Exception {
        String name = collection(3, Distance.Cosine);
        get(client.upsertAsync(
                name,
                List.of(
                        point(id(1), Map.of("k", value("a")), 1, 0, 0),
                        point(id(2), Map.of("k", value("b")), 1, 1, 0),
                        point(id(3), Map.of("k", value("a")), 0, 1, 0),
                        point(id(4), Map.of("k", value("b")), -1, 0, 0))));
        List<ScoredPoint> hits = get(client.searchAsync(SearchPoints.newBuilder()
                .setCollectionName(name)
                .addAllVector(List.of(2f, 0f, 0f))
                .setLimit(3)
                .setWithPayload(WithPayloadSelectorFactory.enable(true))
                .build()));
        assertThat(hits).extracting(h -> h.getId().getNum()).containsExactly(1L, 2L, 3L);
        assertThat(hits.get(0).getScore()).isCloseTo(1.0f, within(1e-6f));
        assertThat(hits.get(1).getScore()).isCloseTo((float) (1 / Math.sqrt(2)), within(1e-6f));
        assertThat(hits.get(2).getScore()).isCloseTo(0f, within(1e-6f));
        assertThat(hits.get(0).getPayloadMap().get("k").getStringValue()).isEqualTo("a");
        // Filter, threshold and offset.
        List<ScoredPoint> filtered = get(client.searchAsync(SearchPoints.newBuilder()
                .setCollectionName(name)
                .addAllVector(List.of(1f, 0f, 0f))
                .setLimit(10)
                .setFilter(Filter.newBuilder().addMust(matchKeyword("k", "b")))
                .setScoreThreshold(0.5f)
                .build()));
        assertThat(filtered).extracting(h -> h.getId().getNum()).containsExactly(2L);
        List<ScoredPoint> offset = get(client.searchAsync(SearchPoints.newBuilder()
                .setCollectionName(name)
                .addAllVector(List.of(1f, 0f, 0f))
                .setLimit(2)
                .setOffset(1)
                .build()));
        assertThat(offset).extracting(h -> h.getId().getNum()).containsExactly(2L, 3L);
        // Query API: nearest by vector and by id.
        List<ScoredPoint> queried = get(client.queryAsync(QueryPoints.newBuilder()
                .setCollectionName(name)
                .setQuery(nearest(0f, 1f, 0f))
                .setLimit(2)
                .build()));
        assertThat(queried).extracting(h -> h.getId().getNum()).containsExactly(3L, 2L);
        List<ScoredPoint> byId = get(client.queryAsync(QueryPoints.newBuilder()
                .setCollectionName(name)
                .setQuery(nearest(id(4)))
                .setLimit(1)
                .build()));
        assertThat(byId).extracting(h -> h.getId().getNum()).containsExactly(4L);
    }

    @Test
    @DisplayName("Euclid scores are distances, smallest first; Dot scores are raw products")
    void euclidAndDot() throws Exception {
        String euclid = collection(2, Distance.Euclid);
        get(client.upsertAsync(
                euclid,
                List.of(point(id(1), Map.of(), 0, 0), point(id(2), Map.of(), 3, 4), point(id(3), Map.of(), 1, 0))));
        List<ScoredPoint> e = get(client.searchAsync(SearchPoints.newBuilder()
                .setCollectionName(euclid)
                .addAllVector(List.of(0f, 0f))
                .setLimit(3)
                .build()));
        assertThat(e).extracting(h -> h.getId().getNum()).containsExactly(1L, 3L, 2L);
        assertThat(e.get(2).getScore()).isCloseTo(5f, within(1e-6f));
        String dot = collection(2, Distance.Dot);
        get(client.upsertAsync(dot, List.of(point(id(1), Map.of(), 1, 1), point(id(2), Map.of(), 3, 4))));
        List<ScoredPoint> d = get(client.searchAsync(SearchPoints.newBuilder()
                .setCollectionName(dot)
                .addAllVector(List.of(1f, 2f))
                .setLimit(2)
                .build()));
        assertThat(d).extracting(h -> h.getId().getNum()).containsExactly(2L, 1L);
        assertThat(d.get(0).getScore()).isCloseTo(11f, within(1e-6f));
    }

    @Test
    @DisplayName("Delete by ids and by filter; payload indexes are created and reported")
    void deleteAndIndexes() throws Exception {
        String name = collection(2, Distance.Cosine);
        List<PointStruct> points = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            points.add(point(id(i), Map.of("file_id", value(i < 5 ? "f1" : "f2")), 1, i));
        }
        get(client.upsertAsync(name, points));
        get(client.createPayloadIndexAsync(name, "file_id", PayloadSchemaType.Keyword, null, true, null, null));
        assertThat(get(client.getCollectionInfoAsync(name)).getPayloadSchemaMap())
                .containsKey("file_id");
        get(client.deleteAsync(
                name, Filter.newBuilder().addMust(matchKeyword("file_id", "f1")).build()));
        assertThat(get(client.countAsync(name))).isEqualTo(5);
        get(client.deleteAsync(name, List.of(id(5), id(6), id(42))));
        assertThat(get(client.countAsync(name))).isEqualTo(3);
    }

    @Test
    @DisplayName(
            "Payload indexes narrow filtered reads without changing one answer, through upserts, moves and deletes")
    void indexedFiltersAnswerLikeFullScans() throws Exception {
        String plain = collection(2, Distance.Dot);
        String indexed = collection(2, Distance.Dot);
        get(client.createPayloadIndexAsync(indexed, "tenant", PayloadSchemaType.Keyword, null, true, null, null));
        get(client.createPayloadIndexAsync(indexed, "part", PayloadSchemaType.Integer, null, true, null, null));
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 3; round++) {
            List<PointStruct> batch = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                // Ids repeat across rounds, so later rounds move points between tenants and parts.
                int id = random.nextInt(900);
                Map<String, io.qdrant.client.grpc.JsonWithInt.Value> payload = random.nextInt(10) == 0
                        ? Map.of("tenant", value(List.of(value("t" + random.nextInt(3)), value("shared"))))
                        : Map.of("tenant", value("t" + random.nextInt(3)), "part", value(random.nextInt(4)));
                batch.add(point(id(id), payload, random.nextFloat(), random.nextFloat()));
            }
            get(client.upsertAsync(plain, batch));
            get(client.upsertAsync(indexed, batch));
            List<PointId> gone = List.of(id(random.nextInt(900)), id(random.nextInt(900)), id(random.nextInt(900)));
            get(client.deleteAsync(plain, gone));
            get(client.deleteAsync(indexed, gone));
        }
        Filter byPart = Filter.newBuilder()
                .addMust(matchKeyword("tenant", "t1"))
                .addMust(match("part", 2))
                .build();
        get(client.deleteAsync(plain, byPart));
        get(client.deleteAsync(indexed, byPart));
        List<Filter> filters = List.of(
                Filter.newBuilder().addMust(matchKeyword("tenant", "t0")).build(),
                Filter.newBuilder().addMust(matchKeyword("tenant", "shared")).build(),
                Filter.newBuilder()
                        .addMust(matchKeyword("tenant", "t2"))
                        .addMust(match("part", 1))
                        .build(),
                Filter.newBuilder()
                        .addMust(matchKeyword("tenant", "t1"))
                        .addMust(match("part", 2))
                        .build(),
                Filter.newBuilder().addMust(matchKeyword("tenant", "nobody")).build(),
                Filter.newBuilder()
                        .addMust(match("part", 3))
                        .addMustNot(matchKeyword("tenant", "t0"))
                        .build());
        for (Filter f : filters) {
            assertThat(get(client.countAsync(indexed, f, true)))
                    .as("count %s", f)
                    .isEqualTo(get(client.countAsync(plain, f, true)));
            assertThat(scrollIds(indexed, f)).as("scroll %s", f).isEqualTo(scrollIds(plain, f));
            assertThat(nearestIds(indexed, f)).as("search %s", f).isEqualTo(nearestIds(plain, f));
        }
        assertThat(scrollIds(indexed, filters.get(0))).isNotEmpty();
        assertThat(scrollIds(indexed, filters.get(3))).isEmpty();
    }

    /** The ids of the 5 points nearest (1, 0.5) among those matching {@code filter}, best first. */
    private static List<String> nearestIds(String name, Filter filter) throws Exception {
        return get(client.searchAsync(SearchPoints.newBuilder()
                        .setCollectionName(name)
                        .addAllVector(List.of(1f, 0.5f))
                        .setFilter(filter)
                        .setLimit(5)
                        .build()))
                .stream()
                .map(p -> p.getId().toString())
                .toList();
    }

    /** Every id matching {@code filter}, in scroll order, paging by 50. */
    private static List<String> scrollIds(String name, Filter filter) throws Exception {
        List<String> ids = new ArrayList<>();
        PointId offset = null;
        do {
            ScrollPoints.Builder req = ScrollPoints.newBuilder()
                    .setCollectionName(name)
                    .setFilter(filter)
                    .setLimit(50);
            if (offset != null) {
                req.setOffset(offset);
            }
            ScrollResponse page = get(client.scrollAsync(req.build()));
            page.getResultList().forEach(p -> ids.add(p.getId().toString()));
            offset = page.hasNextPageOffset() ? page.getNextPageOffset() : null;
        } while (offset != null);
        return ids;
    }

    @Test
    @DisplayName("Wrong dimensions, missing collections and unimplemented calls are errors, not wrong answers")
    void errors() throws Exception {
        String name = collection(3, Distance.Cosine);
        assertThatThrownBy(() -> get(client.upsertAsync(name, List.of(point(id(1), Map.of(), 1, 2)))))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("expected dim: 3, got 2");
        assertThatThrownBy(
                        () -> get(client.upsertAsync("no-such-collection", List.of(point(id(1), Map.of(), 1, 2, 3)))))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.NOT_FOUND));
        var channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
        try {
            var stub = PointsGrpc.newFutureStub(channel);
            assertThatThrownBy(() -> get(stub.recommend(
                            RecommendPoints.newBuilder().setCollectionName(name).build())))
                    .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    @DisplayName("A configured API key is required")
    void apiKeyIsChecked() throws Exception {
        try (EmbeddedQdrant secured = EmbeddedQdrant.start(0, null, "s3cret")) {
            QdrantClient wrong = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", secured.port(), false, false)
                    .withApiKey("nope")
                    .build());
            QdrantClient right = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", secured.port(), false, false)
                    .withApiKey("s3cret")
                    .build());
            try {
                assertThatThrownBy(() -> get(wrong.listCollectionsAsync(Duration.ofSeconds(5))))
                        .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.UNAUTHENTICATED));
                assertThat(get(right.listCollectionsAsync(Duration.ofSeconds(5))))
                        .isEmpty();
            } finally {
                wrong.close();
                right.close();
            }
        }
    }

    @Test
    @DisplayName("Persisted collections and points survive a restart; a torn last log record is dropped")
    void persistence() throws Exception {
        Path dir = TestStack.tempDir("qdrant");
        try (EmbeddedQdrant first = EmbeddedQdrant.start(0, dir, "")) {
            QdrantClient c = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", first.port(), false)
                    .build());
            get(c.createCollectionAsync(
                    "docs",
                    VectorParams.newBuilder()
                            .setSize(2)
                            .setDistance(Distance.Cosine)
                            .build()));
            List<PointStruct> points = new ArrayList<>();
            for (int i = 0; i < 1500; i++) {
                points.add(point(id(i), Map.of("i", value(i)), 1, i));
            }
            get(c.upsertAsync("docs", points));
            get(c.deleteAsync("docs", List.of(id(0), id(1))));
            c.close();
        }
        Path log = findLog(dir);
        java.nio.file.Files.write(log, new byte[] {1, 120, 3}, java.nio.file.StandardOpenOption.APPEND);
        try (EmbeddedQdrant second = EmbeddedQdrant.start(0, dir, "")) {
            QdrantClient c = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", second.port(), false)
                    .build());
            assertThat(get(c.countAsync("docs"))).isEqualTo(1498);
            List<RetrievedPoint> p = get(c.retrieveAsync("docs", List.of(id(1499)), true, true, null));
            assertThat(p.get(0).getPayloadMap().get("i").getIntegerValue()).isEqualTo(1499);
            c.close();
        }
    }

    private static Path findLog(Path dir) throws Exception {
        try (var files = java.nio.file.Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().equals("points.log"))
                    .findFirst()
                    .orElseThrow();
        }
    }
}
