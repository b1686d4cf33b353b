package io.trisync.embedded.qdrant;

import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.QueryFactory.nearest;
import static io.qdrant.client.ValueFactory.value;
import static io.trisync.embedded.qdrant.QdrantFixture.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.PointId;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded server answers the official Java client as Qdrant's documentation says Qdrant does:
 * collections, point ids, searches by each distance, deletes, errors, the API key and persistence.
 */
@Timeout(120)
class EmbeddedQdrantPointsTest {

    @BeforeAll
    static void start() throws Exception {
        QdrantFixture.start();
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
        Files.write(log, new byte[] {1, 120, 3}, StandardOpenOption.APPEND);
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
        try (var files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().equals("points.log"))
                    .findFirst()
                    .orElseThrow();
        }
    }
}
