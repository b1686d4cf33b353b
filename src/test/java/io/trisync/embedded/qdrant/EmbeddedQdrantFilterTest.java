package io.trisync.embedded.qdrant;

import static io.qdrant.client.ConditionFactory.match;
import static io.qdrant.client.ConditionFactory.matchExceptKeywords;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ConditionFactory.range;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.ValueFactory.value;
import static io.trisync.embedded.qdrant.QdrantFixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchPoints;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded server answers the official Java client's filters as Qdrant does: each condition, scrolls
 * that return every point once, and indexed filters that answer as full scans do.
 */
@Timeout(120)
class EmbeddedQdrantFilterTest {

    @BeforeAll
    static void start() throws Exception {
        QdrantFixture.start();
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

    private static List<Long> idsWhere(int from, int to, IntPredicate keep) {
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
    @DisplayName(
            "Payload indexes narrow filtered reads without changing one answer, through upserts, moves and deletes")
    void indexedFiltersAnswerLikeFullScans() throws Exception {
        String plain = collection(2, Distance.Dot);
        String indexed = collection(2, Distance.Dot);
        get(client.createPayloadIndexAsync(indexed, "tenant", PayloadSchemaType.Keyword, null, true, null, null));
        get(client.createPayloadIndexAsync(indexed, "part", PayloadSchemaType.Integer, null, true, null, null));
        Random random = new Random(7);
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
}
