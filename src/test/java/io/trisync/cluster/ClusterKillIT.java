package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import io.trisync.auth.Tokens;
import io.trisync.browser.Chromium;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ClusterProcess;
import io.trisync.testsupport.ClusterProcess.StorePorts;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TcpProxy;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
    static final String SECRET = "cluster-kill-secret-0123456789abcdef-01";
    /** Seconds between an operation's heartbeats in this cluster: the monitor's bound is three of them. */
    static final int HEARTBEAT_SECONDS = 2;
    /** How long Hazelcast may take to declare a killed member gone (cluster.xml: max.no.heartbeat). */
    static final int MEMBER_TIMEOUT_SECONDS = 5;

    static final int RATE_LIMIT = 900;
    static final int START_SECONDS = 180;

    private final Path dir = TestStack.tempDir("trisync-cluster-kill");
    private final StorePorts ports = StorePorts.free();
    private final Map<String, String> env = Map.of(
            "CLUSTER_NAME",
            TestStack.unique("kill"),
            "AUTH_ENABLED",
            "true",
            "AUTH_JWT_SECRET",
            SECRET,
            "API_RATE_LIMIT_PER_MINUTE",
            String.valueOf(RATE_LIMIT),
            "SYNC_HEARTBEAT_INTERVAL_SECONDS",
            String.valueOf(HEARTBEAT_SECONDS),
            "INGEST_RECOVERY_GRACE_SECONDS",
            "5",
            "INGEST_RECOVERY_INTERVAL_SECONDS",
            "2",
            // Partitions one at a time, so a scan lasts long enough to lose a node half way.
            "SYNC_SCAN_PARALLELISM",
            "1");
    private final ClusterProcess n1 = new ClusterProcess(1, dir, ports, env);
    private final ClusterProcess n2 = new ClusterProcess(2, dir, ports, env);
    private final ClusterProcess n3 = new ClusterProcess(3, dir, ports, env);
    /** Node 3 runs workers only: no HTTP. */
    private static final Map<String, String> WORKER = Map.of("NODE_ROLES", "scan,ingest");

    private final String scanned = TestStack.unique("scanned");
    /** Node 1's S3, answering 150 ms late: node 3's way to it in the scan test. */
    private final TcpProxy slowS3 = TcpProxy.slow(ports.s3(), 150);

    private Vertx vertx;
    private WebClient web;
    private Tokens tokens;
    private Stores stores;

    @BeforeAll
    void startCluster() {
        vertx = Vertx.vertx();
        web = WebClient.create(vertx, new WebClientOptions().setIdleTimeout(120));
        tokens = Tokens.of(vertx, SECRET);
        n1.start(Map.of(), START_SECONDS);
        n2.start(Map.of(), START_SECONDS);
        n3.start(WORKER, START_SECONDS);
        stores = Stores.create(vertx, ClusterProcess.storesConfig(ports));
        awaitMembers(n1, 3);
    }

    @AfterAll
    void stopCluster() {
        n3.close();
        n2.close();
        if (stores != null) {
            stores.close().await();
        }
        n1.close();
        slowS3.close();
        web.close();
        vertx.close().await();
    }

    @Test
    @Order(1)
    @DisplayName("A node with NODE_ROLES=scan,ingest serves no HTTP but takes upload completions and scan partitions")
    void workerWithoutHttp() {
        assertThat(n3.listens())
                .as("node 3 (scan,ingest) listens on no HTTP port")
                .isFalse();
        String token = token(scanned);
        for (int i = 0; i < 60; i++) {
            HttpResponse<Buffer> r = upload(i % 2 == 0 ? n1 : n2, token, scanned, Fixtures.prose(60) + " " + i)
                    .await();
            assertThat(r.statusCode()).as("upload %s: %s", i, r.bodyAsString()).isEqualTo(201);
        }
        assertThat(operationsCompletedBy(scanned, n3.id()))
                .as("uploads of the tenant that node 3 completed")
                .isPositive();
        JsonObject report = analyze(n1, token, scanned).await().bodyAsJsonObject();
        assertThat(report.getJsonObject("scanned_by").fieldNames())
                .as("nodes that scanned partitions: %s", report.getJsonObject("scanned_by"))
                .containsExactlyInAnyOrder(n1.id(), n2.id(), n3.id());
        assertThat(report.getJsonArray("issues")).isEmpty();
    }

    @Test
    @Order(2)
    @DisplayName(
            "kill -9 of a node during uploads through the other two: nothing acknowledged lost, nothing else left, a few seconds of 503 at most")
    void killDuringUploads() throws Exception {
        String tenant = TestStack.unique("uploads");
        String token = token(tenant);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        List<long[]> refusals = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        long[] killedAt = {Long.MAX_VALUE};
        List<Future<Void>> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            ClusterProcess via = c % 2 == 0 ? n1 : n2;
            clients.add(uploader(via, token, tenant, stop, running, sent, acknowledged, refusals));
        }
        Await.until("20 acknowledged uploads before the kill", 120_000, () -> acknowledged.size() >= 20);
        killedAt[0] = System.currentTimeMillis();
        n3.kill();
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
                .isLessThan((MEMBER_TIMEOUT_SECONDS + 5) * 1000L);

        Await.until(
                "recovery to end every unfinished upload of the tenant",
                60_000,
                () -> stores.operations().countOpen(tenant).await() == 0);
        for (var entry : acknowledged.entrySet()) {
            assertComplete(tenant, entry.getKey(), entry.getValue());
        }
        Set<String> active = activeFiles(tenant);
        assertThat(active)
                .as("files of the tenant after recovery: exactly the acknowledged uploads")
                .isEqualTo(acknowledged.keySet());
        JsonObject report = analyze(n1, token, tenant).await().bodyAsJsonObject();
        assertThat(report.getJsonArray("issues"))
                .as("a full scan after recovery")
                .isEmpty();
        // Node 3 comes back behind a slow link to S3 (each answer 150 ms late): its partitions of the
        // next test's scan take long enough for a kill to land in the middle of one.
        Map<String, String> slowWorker = new HashMap<>(WORKER);
        slowWorker.put("S3_ENDPOINT", "http://127.0.0.1:" + slowS3.port());
        n3.start(slowWorker, START_SECONDS);
        awaitMembers(n1, 3);
    }

    @Test
    @Order(3)
    @DisplayName(
            "kill -9 of a partition worker mid-scan: the scan completes with the report a scan without the kill gives")
    void killDuringScan() throws Exception {
        String token = token(scanned);
        List<String> files = new ArrayList<>(activeFiles(scanned));
        files.sort(null);
        // Drift for the report to find: five blobs and five files' points deleted behind trisync's back.
        for (String id : files.subList(0, 5)) {
            FileRecord f = stores.metadata().get(id).await();
            stores.blobs().delete(StoreKeys.blobKey(scanned, f.partition(), id)).await();
        }
        for (String id : files.subList(5, 10)) {
            stores.vectors().deleteFile(scanned, id).await();
        }
        JsonObject calm = analyze(n1, token, scanned).await().bodyAsJsonObject();
        assertThat(calm.getJsonObject("scanned_by").fieldNames()).contains(n1.id(), n2.id(), n3.id());
        assertThat(calm.getJsonArray("issues")).hasSize(10);

        long seq = maxSeq(scanned);
        Future<HttpResponse<Buffer>> scan = analyze(n1, token, scanned);
        // The scan's progress events (two a second at most) say how far it is: kill in its first part.
        long[] doneAtKill = {-1};
        Await.until("the scan to be part way", 60_000, () -> {
            for (Event e : stores.events().since(scanned, seq, 1000).await()) {
                if (EventTypes.OP_PROGRESS.equals(e.type())) {
                    doneAtKill[0] = Math.max(doneAtKill[0], e.data().getLong("currentFile"));
                }
            }
            return doneAtKill[0] >= 4;
        });
        n3.kill();
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
        assertThat(issues(killed)).as("issues of the scan that lost a node").isEqualTo(issues(calm));
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
        String token = token(tenant);
        List<String> files = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            HttpResponse<Buffer> r =
                    upload(n1, token, tenant, Fixtures.prose(600) + " " + i).await();
            assertThat(r.statusCode()).isEqualTo(201);
            files.add(r.bodyAsJsonObject().getString("id"));
        }
        for (String id : files) {
            stores.vectors().deleteFile(tenant, id).await();
        }
        assertThat(analyze(n1, token, tenant).await().bodyAsJsonObject().getJsonArray("issues"))
                .hasSize(files.size());

        try (Chromium chromium = new Chromium()) {
            Page page = chromium.browser().newContext().newPage();
            // Served by node 1, connected first to node 2's bridge, node 1 next.
            page.navigate(n1.url() + "/events.html#token=" + token + "&tenant=" + tenant + "&nodes=" + n2.url() + ","
                    + n1.url());
            page.waitForFunction("() => window.trisyncState === 'open'");
            assertThat(page.evaluate("() => window.trisyncUrl")).isEqualTo(n2.url() + "/eventbus");
            long before = maxSeq(tenant);

            HttpResponse<Buffer> started = fix(n2, token, tenant).await();
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String first = started.bodyAsJsonObject().getString("operation_id");
            Await.until("the repair on node 2 to be part way", 60_000, () -> {
                JsonObject op = operation(n1, token, first);
                return "running".equals(op.getString("status")) && op.getLong("files_processed", 0L) > 0;
            });
            long killedAt = System.currentTimeMillis();
            n2.kill();
            Await.until(
                    "the killed node's repair to fail",
                    (MEMBER_TIMEOUT_SECONDS + 3L * HEARTBEAT_SECONDS) * 1000,
                    () -> "failed".equals(operation(n1, token, first).getString("status")));
            long failedAfter = System.currentTimeMillis() - killedAt;
            LOG.info(
                    "Repair {} on node 2 failed {} ms after the kill: {}",
                    first,
                    failedAfter,
                    operation(n1, token, first).getString("error_message"));

            HttpResponse<Buffer> again = fix(n1, token, tenant).await();
            assertThat(again.statusCode())
                    .as("a new repair: %s", again.bodyAsString())
                    .isEqualTo(202);
            String second = again.bodyAsJsonObject().getString("operation_id");
            Await.until("the new repair to complete", 120_000, () -> "completed"
                    .equals(operation(n1, token, second).getString("status")));
            for (String id : files) {
                assertThat(stores.vectors().count(tenant, id).await())
                        .as("points of %s", id)
                        .isPositive();
            }

            List<Long> expected = seqsAfter(tenant, before);
            Await.until("the page to show every event of the tenant", 60_000, () -> {
                List<Long> shown = shownSeqs(page);
                return !shown.isEmpty() && shown.get(shown.size() - 1).equals(expected.get(expected.size() - 1));
            });
            assertThat(page.evaluate("() => window.trisyncUrl")).isEqualTo(n1.url() + "/eventbus");
            assertThat(shownSeqs(page))
                    .as("the page's events: each of the tenant's since it opened, once, in order")
                    .isEqualTo(expected);
        }
    }

    @Test
    @Order(5)
    @DisplayName("A token calling all three nodes by turns gets one budget across them")
    void rateLimitAcrossThreeNodes() {
        n2.start(Map.of(), START_SECONDS);
        n3.start(Map.of(), START_SECONDS);
        awaitMembers(n1, 3);
        String tenant = TestStack.unique("limited");
        String token = token(tenant);
        List<ClusterProcess> nodes = List.of(n1, n2, n3);
        Map<String, Integer> ok = new HashMap<>();
        Map<String, Integer> limited = new HashMap<>();
        for (int i = 0; i < RATE_LIMIT + 60; i++) {
            ClusterProcess node = nodes.get(i % 3);
            int status = web.get(node.httpPort(), "127.0.0.1", "/api/files?limit=1&user_id=" + tenant)
                    .putHeader("Authorization", "Bearer " + token)
                    .send()
                    .await()
                    .statusCode();
            (status == 200 ? ok : limited).merge(node.id(), 1, Integer::sum);
            assertThat(status).isIn(200, Failure.TOO_MANY_REQUESTS);
        }
        assertThat(ok.values().stream().mapToInt(Integer::intValue).sum())
                .as("calls admitted across the three nodes: %s", ok)
                .isEqualTo(RATE_LIMIT);
        assertThat(limited).as("calls refused, by node").containsOnlyKeys(n1.id(), n2.id(), n3.id());
    }

    // --- helpers

    private String token(String tenant) {
        return tokens.issue(tenant, false, Duration.ofMinutes(30));
    }

    private Future<HttpResponse<Buffer>> upload(ClusterProcess node, String token, String tenant, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Authorization", "Bearer " + token)
                .timeout(120_000)
                .sendMultipartForm(form);
    }

    /** One client uploading until {@code stop}: 201s into {@code acknowledged}, refusals as [time, status]. */
    private Future<Void> uploader(
            ClusterProcess via,
            String token,
            String tenant,
            AtomicBoolean stop,
            AtomicInteger running,
            AtomicInteger sent,
            Map<String, String> acknowledged,
            List<long[]> refusals) {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        running.incrementAndGet();
        vertx.runOnContext(v -> next(via, token, tenant, stop, sent, acknowledged, refusals, done));
        return done.future();
    }

    private void next(
            ClusterProcess via,
            String token,
            String tenant,
            AtomicBoolean stop,
            AtomicInteger sent,
            Map<String, String> acknowledged,
            List<long[]> refusals,
            io.vertx.core.Promise<Void> done) {
        if (stop.get()) {
            done.complete();
            return;
        }
        String text = Fixtures.prose(40) + " " + sent.incrementAndGet() + " " + java.util.UUID.randomUUID();
        upload(via, token, tenant, text).onComplete(r -> {
            if (r.succeeded() && r.result().statusCode() == 201) {
                acknowledged.put(r.result().bodyAsJsonObject().getString("id"), Fixtures.sha256(Fixtures.utf8(text)));
            } else {
                refusals.add(new long[] {
                    System.currentTimeMillis(), r.succeeded() ? r.result().statusCode() : -1
                });
                if (r.succeeded()) {
                    LOG.info(
                            "Upload via {} refused: {} {}",
                            via.id(),
                            r.result().statusCode(),
                            r.result().bodyAsString());
                } else {
                    LOG.info("Upload via {} failed: {}", via.id(), r.cause().toString());
                }
            }
            next(via, token, tenant, stop, sent, acknowledged, refusals, done);
        });
    }

    private Future<HttpResponse<Buffer>> analyze(ClusterProcess node, String token, String tenant) {
        return web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .putHeader("Authorization", "Bearer " + token)
                .timeout(300_000)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("mode", "full"));
    }

    private Future<HttpResponse<Buffer>> fix(ClusterProcess node, String token, String tenant) {
        return web.post(node.httpPort(), "127.0.0.1", "/api/sync/fix")
                .putHeader("Authorization", "Bearer " + token)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("dry_run", false));
    }

    private JsonObject latestSync(ClusterProcess node, String token, String tenant) {
        HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", "/api/v1/sync/status?tenant_id=" + tenant)
                .putHeader("Authorization", "Bearer " + token)
                .send()
                .await();
        return r.statusCode() == 200 ? r.bodyAsJsonObject().getJsonObject("latest_sync") : null;
    }

    /** The tracked operation {@code id} from the history (any node answers). */
    private JsonObject operation(ClusterProcess node, String token, String id) {
        HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", "/api/sync/fix/" + id)
                .putHeader("Authorization", "Bearer " + token)
                .send()
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getJsonObject("operation");
    }

    private void awaitMembers(ClusterProcess node, int members) {
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        Await.until(members + " members in node " + node.id() + "'s cluster", 60_000, () -> {
            HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", "/api/sync/status")
                    .putHeader("Authorization", "Bearer " + admin)
                    .send()
                    .await();
            JsonObject body = r.bodyAsJsonObject();
            Object nodes = body.getValue("nodes");
            int count = nodes instanceof JsonArray a ? a.size() : nodes instanceof Number n ? n.intValue() : -1;
            return count == members;
        });
    }

    private static Set<String> issues(JsonObject report) {
        Set<String> out = new TreeSet<>();
        report.getJsonArray("issues").forEach(i -> {
            JsonObject issue = (JsonObject) i;
            out.add(issue.getString("type") + " " + issue.getString("file_id"));
        });
        return out;
    }

    private void assertComplete(String tenant, String id, String sha256) {
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).as("metadata of acknowledged upload %s", id).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.sha256()).isEqualTo(sha256);
        String key = StoreKeys.blobKey(tenant, record.partition(), id);
        assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                .as("blob of acknowledged upload %s", id)
                .isEqualTo(sha256);
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of acknowledged upload %s", id)
                .isEqualTo(record.embedding().chunks())
                .isPositive();
    }

    /** The ids of the tenant's active files, read from MongoDB. */
    private Set<String> activeFiles(String tenant) {
        MongoClient mongo = mongo();
        try {
            Set<String> ids = new HashSet<>();
            mongo.find("files", new JsonObject().put("tenantId", tenant).put("status", FileRecord.Status.ACTIVE.wire()))
                    .await()
                    .forEach(d -> ids.add(d.getString("_id")));
            return ids;
        } finally {
            mongo.close().await();
        }
    }

    /** Uploads of {@code tenant} that {@code nodeId}'s process completed (it took the operation's lease). */
    private long operationsCompletedBy(String tenant, String nodeId) {
        MongoClient mongo = mongo();
        try {
            JsonArray incarnations = new JsonArray();
            mongo.find("node_incarnations", new JsonObject().put("nodeId", nodeId))
                    .await()
                    .forEach(d -> incarnations.add(d.getString("_id")));
            return mongo.count(
                            "ingest_ops",
                            new JsonObject()
                                    .put("tenantId", tenant)
                                    .put("step", "DONE")
                                    .put("incarnation", new JsonObject().put("$in", incarnations)))
                    .await();
        } finally {
            mongo.close().await();
        }
    }

    private long maxSeq(String tenant) {
        List<Event> recent = stores.events().recent(tenant, 1).await();
        return recent.isEmpty() ? 0 : recent.get(0).seq();
    }

    private List<Long> seqsAfter(String tenant, long after) {
        List<Long> seqs = new ArrayList<>();
        for (Event e : stores.events().since(tenant, after, 100_000).await()) {
            seqs.add(e.seq());
        }
        return seqs;
    }

    @SuppressWarnings("unchecked")
    private static List<Long> shownSeqs(Page page) {
        List<Object> seqs = (List<Object>) page.evaluate("() => window.trisyncReceived.map(e => e.seq)");
        return seqs.stream().map(s -> ((Number) s).longValue()).toList();
    }

    private MongoClient mongo() {
        return MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(
                        ClusterProcess.storesConfig(ports).mongo()));
    }
}
