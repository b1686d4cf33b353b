package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(120)
class QdrantVectorStoreIT {

    private static final int DIMS = 8;
    private static QdrantVectorStore store;
    private static Vertx vertx;

    @BeforeAll
    static void connect(Vertx v) {
        vertx = v;
        TrisyncConfig.QdrantConfig c = TestStack.config().qdrant();
        store = new QdrantVectorStore(
                v,
                new TrisyncConfig.QdrantConfig(
                        c.host(), c.port(), c.apiKey(), false, TestStack.unique("chunks"), DIMS));
        store.init().await();
        store.init().await();
    }

    @AfterAll
    static void close() {
        store.close().await();
    }

    private static float[] vector(Random random) {
        float[] v = new float[DIMS];
        for (int i = 0; i < DIMS; i++) {
            v[i] = random.nextFloat() - 0.5f;
        }
        return v;
    }

    private static List<ChunkPoint> file(String tenant, String fileId, int chunks, Random random) {
        List<ChunkPoint> points = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            // File ids are globally unique (they are MongoDB _ids), so point ids need not include the tenant.
            points.add(ChunkPoint.of(
                    tenant, fileId, c, StoreKeys.partition(fileId, 16), "sha-" + fileId, "model-a", vector(random)));
        }
        return points;
    }

    @Test
    @DisplayName("2,500 points scroll back per tenant and per partition, each once, with only the listed payload")
    void scrollByTenantAndPartition() {
        String tenant = TestStack.unique("t");
        Random random = new Random(1);
        List<ChunkPoint> all = new ArrayList<>();
        for (int f = 0; f < 500; f++) {
            all.addAll(file(tenant, tenant + "-file-" + f, 5, random));
        }
        for (int i = 0; i < all.size(); i += 500) {
            store.upsert(all.subList(i, i + 500)).await();
        }
        store.upsert(file(TestStack.unique("other"), TestStack.unique("file"), 3, random))
                .await();
        assertThat(store.count(tenant, null).await()).isEqualTo(2500);

        Set<UUID> seen = new HashSet<>();
        String offset = null;
        int pages = 0;
        do {
            Page<ChunkPoint> page = store.scroll(tenant, null, offset, 256).await();
            for (ChunkPoint p : page.items()) {
                assertThat(seen.add(p.id())).isTrue();
                assertThat(p.tenantId()).isEqualTo(tenant);
                assertThat(p.vector()).isNull();
                assertThat(p.id()).isEqualTo(StoreKeys.chunkPointId(p.fileId(), p.chunk()));
                assertThat(p.model()).isEqualTo("model-a");
                assertThat(p.contentSha256()).isEqualTo("sha-" + p.fileId());
            }
            offset = page.next();
            pages++;
        } while (offset != null);
        assertThat(seen).hasSize(2500);
        assertThat(pages).isEqualTo(10);

        int total = 0;
        for (int p = 0; p < 16; p++) {
            int partition = p;
            List<ChunkPoint> items = store.scroll(tenant, p, null, 5000).await().items();
            assertThat(items).allMatch(c -> c.partition() == partition);
            total += items.size();
        }
        assertThat(total).isEqualTo(2500);
    }

    @Test
    @DisplayName("Deleting a file removes every point of that file and no other; delete by id too")
    void deleteFileAndIds() {
        String tenant = TestStack.unique("t");
        Random random = new Random(2);
        String fileA = TestStack.unique("a");
        String fileB = TestStack.unique("b");
        List<ChunkPoint> a = file(tenant, fileA, 7, random);
        List<ChunkPoint> b = file(tenant, fileB, 4, random);
        Future.all(store.upsert(a), store.upsert(b)).await();
        store.deleteFile(tenant, fileA).await();
        assertThat(store.count(tenant, fileA).await()).isZero();
        assertThat(store.count(tenant, fileB).await()).isEqualTo(4);
        store.deleteFile(tenant, fileA).await();
        store.delete(List.of(b.get(0).id(), UUID.randomUUID())).await();
        assertThat(store.count(tenant, fileB).await()).isEqualTo(3);
        List<ChunkPoint> got = store.get(List.of(b.get(1).id(), b.get(0).id())).await();
        assertThat(got).hasSize(1);
        assertThat(got.get(0).vector()).hasSize(DIMS);
    }

    @Test
    @DisplayName("Deleting one content's points leaves those of another version of the file, which share their ids")
    void deleteContentLeavesOtherVersions() {
        String tenant = TestStack.unique("t");
        Random random = new Random(3);
        String fileA = TestStack.unique("a");
        store.upsert(file(tenant, fileA, 7, random)).await();
        // A new version over the first three chunks: the same point ids, another content.
        List<ChunkPoint> newer = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            newer.add(ChunkPoint.of(
                    tenant, fileA, c, StoreKeys.partition(fileA, 16), "sha-newer", "model-a", vector(random)));
        }
        store.upsert(newer).await();

        store.deleteContent(tenant, fileA, "sha-" + fileA).await();

        List<ChunkPoint> left = store.pointsOf(tenant, fileA).await();
        assertThat(left).extracting(ChunkPoint::chunk).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(left).allMatch(p -> p.contentSha256().equals("sha-newer"));
    }

    @Test
    @DisplayName("Search returns the tenant's nearest points, best first, never another tenant's")
    void searchWithinTenant() {
        String tenant = TestStack.unique("t");
        String other = TestStack.unique("t");
        Random random = new Random(3);
        List<ChunkPoint> mine = file(tenant, TestStack.unique("doc"), 20, random);
        store.upsert(mine).await();
        store.upsert(file(other, TestStack.unique("doc"), 20, random)).await();
        ChunkPoint target = mine.get(7);
        List<VectorStore.Scored> hits = store.search(tenant, target.vector(), 5).await();
        assertThat(hits).hasSize(5);
        assertThat(hits.get(0).point().id()).isEqualTo(target.id());
        assertThat(hits.get(0).score()).isGreaterThan(0.999f);
        assertThat(hits).allMatch(h -> h.point().tenantId().equals(tenant));
        assertThat(hits).extracting(VectorStore.Scored::score).isSortedAccordingTo((x, y) -> Float.compare(y, x));
    }

    @Test
    @DisplayName("A Qdrant nobody listens on fails with Unavailable")
    void unreachableIsUnavailable() {
        QdrantVectorStore down =
                new QdrantVectorStore(vertx, new TrisyncConfig.QdrantConfig("127.0.0.1", 1, "", false, "x", DIMS));
        try {
            assertThatThrownBy(() -> down.ping().await()).isInstanceOf(Failure.Unavailable.class);
            assertThatThrownBy(() -> down.count("t", null).await()).isInstanceOf(Failure.Unavailable.class);
        } finally {
            down.close().await();
        }
    }
}
