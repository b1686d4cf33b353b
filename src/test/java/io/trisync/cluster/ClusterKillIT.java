package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import io.trisync.browser.Chromium;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ClusterProcess;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three node processes, started as a user starts them ({@code bin/cluster-node 1|2|3}: node 1 with
 * the embedded stores, nodes 2 and 3 pointing at them, joined over TCP-IP on loopback), and one of
 * them ended with SIGKILL in each test. The tests run in order on the one cluster; each restarts
 * what the one before killed. Everything is read back from the stores with their own clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(600)
class ClusterKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterKillIT.class);

    private final KillCluster cluster = new KillCluster();

    @BeforeAll
    void startCluster() {
        cluster.start();
    }

    @AfterAll
    void stopCluster() {
        cluster.close();
    }

    @Test
    @Order(1)
    @DisplayName("A node with NODE_ROLES=scan,ingest serves no HTTP but takes upload completions and scan partitions")
    void workerWithoutHttp() {
        assertThat(cluster.n3.listens())
                .as("node 3 (scan,ingest) listens on no HTTP port")
                .isFalse();
        String token = cluster.token(cluster.scanned);
        for (int i = 0; i < 60; i++) {
            HttpResponse<Buffer> r = cluster.upload(
                            i % 2 == 0 ? cluster.n1 : cluster.n2, token, cluster.scanned, Fixtures.prose(60) + " " + i)
                    .await();
            assertThat(r.statusCode()).as("upload %s: %s", i, r.bodyAsString()).isEqualTo(201);
        }
        assertThat(cluster.operationsCompletedBy(cluster.scanned, cluster.n3.id()))
                .as("uploads of the tenant that node 3 completed")
                .isPositive();
        JsonObject report =
                cluster.analyze(cluster.n1, token, cluster.scanned).await().bodyAsJsonObject();
        assertThat(report.getJsonObject("scanned_by").fieldNames())
                .as("nodes that scanned partitions: %s", report.getJsonObject("scanned_by"))
                .containsExactlyInAnyOrder(cluster.n1.id(), cluster.n2.id(), cluster.n3.id());
        assertThat(report.getJsonArray("issues")).isEmpty();
    }

    @Test
    @Order(2)
    @DisplayName(
            "kill -9 of a node during uploads through the other two: nothing acknowledged lost, nothing else left, a few seconds of 503 at most")
    void killDuringUploads() throws Exception {
        String tenant = TestStack.unique("uploads");
        String token = cluster.token(tenant);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        List<long[]> refusals = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        long[] killedAt = {Long.MAX_VALUE};
        List<Future<Void>> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            ClusterProcess via = c % 2 == 0 ? cluster.n1 : cluster.n2;
            clients.add(cluster.uploader(via, token, tenant, stop, running, sent, acknowledged, refusals));
        }
        Await.until("20 acknowledged uploads before the kill", 120_000, () -> acknowledged.size() >= 20);
        killedAt[0] = System.currentTimeMillis();
        cluster.n3.kill();
        int atKill = acknowledged.size();
        Await.until("25 more acknowledged uploads after the kill", 120_000, () -> acknowledged.size() >= atKill + 25);
        stop.set(true);
        Future.all(clients).await();
        long lastRefusal = refusals.stream()
                .filter(r -> r[0] >= killedAt[0])
                .mapToLong(r -> r[0])
                .max()
                .orElse(killedAt[0]);
        LOG.info(
                "Uploads: {} sent, {} acknowledged ({} before the kill), {} refused ({} after it; last {} ms after it)",
                sent.get(),
                acknowledged.size(),
                atKill,
                refusals.size(),
                refusals.stream().filter(r -> r[0] >= killedAt[0]).count(),
                lastRefusal - killedAt[0]);
        assertThat(refusals.stream().filter(r -> r[0] < killedAt[0]).toList())
                .as("uploads refused before the kill")
                .isEmpty();
        assertThat(refusals.stream().map(r -> r[1]).toList())
                .as("statuses of uploads refused after the kill")
                .allMatch(code -> code == Failure.UNAVAILABLE);
        assertThat(lastRefusal - killedAt[0])
                .as("ms from the kill to the last refused upload")
                .isLessThan((KillCluster.MEMBER_TIMEOUT_SECONDS + 5) * 1000L);

        Await.until(
                "recovery to end every unfinished upload of the tenant",
                60_000,
                () -> cluster.stores.operations().countOpen(tenant).await() == 0);
        for (var entry : acknowledged.entrySet()) {
            cluster.assertComplete(tenant, entry.getKey(), entry.getValue());
        }
        Set<String> active = cluster.activeFiles(tenant);
        assertThat(active)
                .as("files of the tenant after recovery: exactly the acknowledged uploads")
                .isEqualTo(acknowledged.keySet());
        JsonObject report = cluster.analyze(cluster.n1, token, tenant).await().bodyAsJsonObject();
        assertThat(report.getJsonArray("issues"))
                .as("a full scan after recovery")
                .isEmpty();
        // Node 3 comes back behind a slow link to S3 (each answer 150 ms late): its partitions of the
        // next test's scan take long enough for a kill to land in the middle of one.
        Map<String, String> slowWorker = new HashMap<>(KillCluster.WORKER);
        slowWorker.put("S3_ENDPOINT", "http://127.0.0.1:" + cluster.slowS3.port());
        cluster.n3.start(slowWorker, KillCluster.START_SECONDS);
        cluster.awaitMembers(cluster.n1);
    }

    @Test
    @Order(3)
    @DisplayName(
            "kill -9 of a partition worker mid-scan: the scan completes with the report a scan without the kill gives")
    void killDuringScan() throws Exception {
        String token = cluster.token(cluster.scanned);
        List<String> files = new ArrayList<>(cluster.activeFiles(cluster.scanned));
        files.sort(null);
        // Drift for the report to find: five blobs and five files' points deleted behind trisync's back.
        for (String id : files.subList(0, 5)) {
            FileRecord f = cluster.stores.metadata().get(id).await();
            cluster.stores
                    .blobs()
                    .delete(StoreKeys.blobKey(cluster.scanned, f.partition(), id))
                    .await();
        }
        for (String id : files.subList(5, 10)) {
            cluster.stores.vectors().deleteFile(cluster.scanned, id).await();
        }
        JsonObject calm =
                cluster.analyze(cluster.n1, token, cluster.scanned).await().bodyAsJsonObject();
        assertThat(calm.getJsonObject("scanned_by").fieldNames())
                .contains(cluster.n1.id(), cluster.n2.id(), cluster.n3.id());
        assertThat(calm.getJsonArray("issues")).hasSize(10);

        long seq = cluster.maxSeq(cluster.scanned);
        Future<HttpResponse<Buffer>> scan = cluster.analyze(cluster.n1, token, cluster.scanned);
        // The scan's progress events (two a second at most) say how far it is: kill in its first part.
        long[] doneAtKill = {-1};
        Await.until("the scan to be part way", 60_000, () -> {
            for (Event e :
                    cluster.stores.events().since(cluster.scanned, seq, 1000).await()) {
                if (EventTypes.OP_PROGRESS.equals(e.type())) {
                    doneAtKill[0] = Math.max(doneAtKill[0], e.data().getLong("currentFile"));
                }
            }
            return doneAtKill[0] >= 4;
        });
        cluster.n3.kill();
        assertThat(scan.isComplete())
                .as("the scan still runs when node 3 is killed")
                .isFalse();
        assertThat(doneAtKill[0]).as("partitions done when node 3 is killed").isLessThan(40);
        HttpResponse<Buffer> answer = scan.await();
        assertThat(answer.statusCode())
                .as("the scan's answer: %s", answer.bodyAsString())
                .isEqualTo(200);
        JsonObject killed = answer.bodyAsJsonObject();
        LOG.info(
                "Scan with node 3 killed after {} of 64 partitions: scanned_by {} (without the kill: {})",
                doneAtKill[0],
                killed.getJsonObject("scanned_by"),
                calm.getJsonObject("scanned_by"));
        assertThat(cluster.issues(killed))
                .as("issues of the scan that lost a node")
                .isEqualTo(cluster.issues(calm));
        JsonObject calmSummary = calm.getJsonObject("summary");
        JsonObject killedSummary = killed.getJsonObject("summary");
        for (String count : List.of("total_files", "synced", "out_of_sync", "missing", "error")) {
            assertThat(killedSummary.getValue(count)).as(count).isEqualTo(calmSummary.getValue(count));
        }
        assertThat(killedSummary.getJsonObject("issues_by_type"))
                .isEqualTo(calmSummary.getJsonObject("issues_by_type"));
        long partitions = killed.getJsonObject("scanned_by").stream()
                .mapToLong(e -> ((Number) e.getValue()).longValue())
                .sum();
        assertThat(partitions).as("partitions in the report").isEqualTo(64);
    }

    @Test
    @Order(4)
    @DisplayName(
            "kill -9 of the node running a repair (and serving a page's bridge socket): the repair fails within three heartbeats, a new one completes, the page misses nothing")
    void killDuringRepair() throws Exception {
        String tenant = TestStack.unique("repaired");
        String token = cluster.token(tenant);
        List<String> files = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            HttpResponse<Buffer> r = cluster.upload(cluster.n1, token, tenant, Fixtures.prose(600) + " " + i)
                    .await();
            assertThat(r.statusCode()).isEqualTo(201);
            files.add(r.bodyAsJsonObject().getString("id"));
        }
        for (String id : files) {
            cluster.stores.vectors().deleteFile(tenant, id).await();
        }
        assertThat(cluster.analyze(cluster.n1, token, tenant)
                        .await()
                        .bodyAsJsonObject()
                        .getJsonArray("issues"))
                .hasSize(files.size());

        try (Chromium chromium = new Chromium()) {
            Page page = chromium.browser().newContext().newPage();
            // Served by node 1, connected first to node 2's bridge, node 1 next.
            page.navigate(cluster.n1.url() + "/events.html#token=" + token + "&tenant=" + tenant + "&nodes="
                    + cluster.n2.url() + "," + cluster.n1.url());
            page.waitForFunction("() => window.trisyncState === 'open'");
            assertThat(page.evaluate("() => window.trisyncUrl")).isEqualTo(cluster.n2.url() + "/eventbus");
            long before = cluster.maxSeq(tenant);

            // Each embedding request answered 1 s late: the repair's 60 files (8 at a time) take several
            // heartbeats, so its progress is seen before it ends and the kill lands part way.
            cluster.embedder.delay(1000);
            HttpResponse<Buffer> started =
                    cluster.fix(cluster.n2, token, tenant).await();
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String first = started.bodyAsJsonObject().getString("operation_id");
            // The page must have shown an event of its own before the kill: the module replays after the
            // last seq it delivered, and one that delivered none cannot tell where it opened.
            Await.until("the repair on node 2 to be part way, and the page to show its first events", 60_000, () -> {
                JsonObject op = cluster.operation(cluster.n1, token, first);
                return "running".equals(op.getString("status"))
                        && op.getLong("files_processed", 0L) > 0
                        && !cluster.shownSeqs(page).isEmpty();
            });
            long killedAt = System.currentTimeMillis();
            cluster.n2.kill();
            cluster.embedder.delay(0);
            Await.until(
                    "the killed node's repair to fail",
                    (KillCluster.MEMBER_TIMEOUT_SECONDS + 3L * KillCluster.HEARTBEAT_SECONDS) * 1000,
                    () -> "failed"
                            .equals(cluster.operation(cluster.n1, token, first).getString("status")));
            long failedAfter = System.currentTimeMillis() - killedAt;
            LOG.info(
                    "Repair {} on node 2 failed {} ms after the kill: {}",
                    first,
                    failedAfter,
                    cluster.operation(cluster.n1, token, first).getString("error_message"));

            HttpResponse<Buffer> again = cluster.fix(cluster.n1, token, tenant).await();
            assertThat(again.statusCode())
                    .as("a new repair: %s", again.bodyAsString())
                    .isEqualTo(202);
            String second = again.bodyAsJsonObject().getString("operation_id");
            Await.until("the new repair to complete", 120_000, () -> "completed"
                    .equals(cluster.operation(cluster.n1, token, second).getString("status")));
            for (String id : files) {
                assertThat(cluster.stores.vectors().count(tenant, id).await())
                        .as("points of %s", id)
                        .isPositive();
            }

            List<Long> expected = cluster.seqsAfter(tenant, before);
            Await.until("the page to show every event of the tenant", 60_000, () -> {
                List<Long> shown = cluster.shownSeqs(page);
                return !shown.isEmpty() && shown.get(shown.size() - 1).equals(expected.get(expected.size() - 1));
            });
            assertThat(page.evaluate("() => window.trisyncUrl")).isEqualTo(cluster.n1.url() + "/eventbus");
            assertThat(cluster.shownSeqs(page))
                    .as("the page's events: each of the tenant's since it opened, once, in order")
                    .isEqualTo(expected);
        }
    }

    @Test
    @Order(5)
    @DisplayName("A token calling all three nodes by turns gets one budget across them")
    void rateLimitAcrossThreeNodes() {
        cluster.n2.launch(Map.of());
        cluster.n3.launch(Map.of());
        cluster.n2.awaitUp(KillCluster.START_SECONDS);
        cluster.n3.awaitUp(KillCluster.START_SECONDS);
        cluster.awaitMembers(cluster.n1);
        String tenant = TestStack.unique("limited");
        String token = cluster.token(tenant);
        List<ClusterProcess> nodes = List.of(cluster.n1, cluster.n2, cluster.n3);
        Map<String, Integer> ok = new HashMap<>();
        Map<String, Integer> limited = new HashMap<>();
        // Twelve calls in flight at a time, four to each node: the budget is one bucket in the
        // cluster, updated atomically, whichever node a call reaches and in whatever order.
        int inFlight = 12;
        for (int first = 0; first < KillCluster.RATE_LIMIT + 60; first += inFlight) {
            List<ClusterProcess> called = new ArrayList<>();
            List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
            for (int i = first; i < Math.min(first + inFlight, KillCluster.RATE_LIMIT + 60); i++) {
                ClusterProcess node = nodes.get(i % 3);
                called.add(node);
                calls.add(cluster.web
                        .get(node.httpPort(), "127.0.0.1", "/api/files?limit=1&user_id=" + tenant)
                        .putHeader("Authorization", "Bearer " + token)
                        .send());
            }
            Future.all(calls).await();
            for (int i = 0; i < calls.size(); i++) {
                int status = calls.get(i).result().statusCode();
                (status == 200 ? ok : limited).merge(called.get(i).id(), 1, Integer::sum);
                assertThat(status).isIn(200, Failure.TOO_MANY_REQUESTS);
            }
        }
        assertThat(ok.values().stream().mapToInt(Integer::intValue).sum())
                .as("calls admitted across the three nodes: %s", ok)
                .isEqualTo(KillCluster.RATE_LIMIT);
        assertThat(limited)
                .as("calls refused, by node")
                .containsOnlyKeys(cluster.n1.id(), cluster.n2.id(), cluster.n3.id());
    }

    // --- helpers
}
