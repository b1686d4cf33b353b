package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import io.trisync.auth.Tokens;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ClusterProcess;
import io.trisync.testsupport.ClusterProcess.StorePorts;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TcpProxy;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster of {@link ClusterKillIT}: three node processes started as a user starts them ({@code
 * bin/cluster-node 1|2|3}: node 1 with the embedded stores, nodes 2 and 3 pointing at them, joined over
 * TCP-IP on loopback), a slow way to node 1's S3, clients of the nodes and of the stores, and what the
 * tests ask of them.
 */
final class KillCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KillCluster.class);
    static final String SECRET = "cluster-kill-secret-0123456789abcdef-01";
    /** Seconds between an operation's heartbeats in this cluster: the monitor's bound is three of them. */
    static final int HEARTBEAT_SECONDS = 2;
    /** How long Hazelcast may take to declare a killed member gone (cluster.xml: max.no.heartbeat). */
    static final int MEMBER_TIMEOUT_SECONDS = 5;

    static final int RATE_LIMIT = 900;
    static final int START_SECONDS = 180;

    final Path dir = TestStack.tempDir("trisync-cluster-kill");
    final StorePorts ports = StorePorts.free();
    /**
     * The nodes' embedding provider, an OpenAI-compatible server on loopback: node loss is what these
     * tests are about, so each node does not load and run the local model (three processes of it
     * shared two cores and made most of the class's time); the repair test slows it to kill a repair
     * part way.
     */
    final EmbeddingServer embedder = new EmbeddingServer(384);

    final Map<String, String> env = withEmbedder(Map.ofEntries(
            Map.entry("CLUSTER_NAME", TestStack.unique("kill")),
            Map.entry("AUTH_ENABLED", "true"),
            Map.entry("AUTH_JWT_SECRET", SECRET),
            Map.entry("API_RATE_LIMIT_PER_MINUTE", String.valueOf(RATE_LIMIT)),
            Map.entry("SYNC_HEARTBEAT_INTERVAL_SECONDS", String.valueOf(HEARTBEAT_SECONDS)),
            Map.entry("INGEST_RECOVERY_GRACE_SECONDS", "5"),
            Map.entry("INGEST_RECOVERY_INTERVAL_SECONDS", "2"),
            // Partitions one at a time, so a scan lasts long enough to lose a node half way.
            Map.entry("SYNC_SCAN_PARALLELISM", "1")));
    final ClusterProcess n1 = new ClusterProcess(1, dir, ports, env);
    final ClusterProcess n2 = new ClusterProcess(2, dir, ports, env);
    final ClusterProcess n3 = new ClusterProcess(3, dir, ports, env);
    /** Node 3 runs workers only: no HTTP. */
    static final Map<String, String> WORKER = Map.of("NODE_ROLES", "scan,ingest");

    final String scanned = TestStack.unique("scanned");
    /** Node 1's S3, answering 150 ms late: node 3's way to it in the scan test. */
    final TcpProxy slowS3 = TcpProxy.slow(ports.s3(), 150);

    Vertx vertx;
    WebClient web;
    Tokens tokens;
    Stores stores;

    /** Starts the three nodes (node 3 a worker without HTTP) and waits until they form one cluster. */
    void start() {
        vertx = Vertx.vertx();
        web = WebClient.create(
                vertx,
                new WebClientOptions()
                        .setIdleTimeout(120)
                        // A pooled connection is let go well before a node closes it for having no request
                        // (HTTP_IDLE_TIMEOUT_SECONDS, 30): reused just as the node closed it, a request
                        // failed with "Connection was closed" (ClusterKillIT once in CI).
                        .setKeepAliveTimeout(10));
        tokens = Tokens.of(vertx, SECRET);
        n1.start(Map.of(), START_SECONDS);
        n2.launch(Map.of());
        n3.launch(WORKER);
        n2.awaitUp(START_SECONDS);
        n3.awaitUp(START_SECONDS);
        stores = Stores.create(vertx, ClusterProcess.storesConfig(ports));
        awaitMembers(n1);
    }

    @Override
    public void close() {
        n3.close();
        n2.close();
        if (stores != null) {
            stores.close().await();
        }
        n1.close();
        slowS3.close();
        embedder.close();
        web.close();
        vertx.close().await();
    }

    String token(String tenant) {
        return tokens.issue(tenant, false, Duration.ofMinutes(30));
    }

    Future<HttpResponse<Buffer>> upload(ClusterProcess node, String token, String tenant, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Authorization", "Bearer " + token)
                .timeout(120_000)
                .sendMultipartForm(form);
    }

    /** One client uploading until {@code stop}: 201s into {@code acknowledged}, refusals as [time, status]. */
    Future<Void> uploader(
            ClusterProcess via,
            String token,
            String tenant,
            AtomicBoolean stop,
            AtomicInteger running,
            AtomicInteger sent,
            Map<String, String> acknowledged,
            List<long[]> refusals) {
        Promise<Void> done = Promise.promise();
        running.incrementAndGet();
        vertx.runOnContext(v -> next(via, token, tenant, stop, sent, acknowledged, refusals, done));
        return done.future();
    }

    void next(
            ClusterProcess via,
            String token,
            String tenant,
            AtomicBoolean stop,
            AtomicInteger sent,
            Map<String, String> acknowledged,
            List<long[]> refusals,
            Promise<Void> done) {
        if (stop.get()) {
            done.complete();
            return;
        }
        String text = Fixtures.prose(40) + " " + sent.incrementAndGet() + " " + UUID.randomUUID();
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

    Future<HttpResponse<Buffer>> analyze(ClusterProcess node, String token, String tenant) {
        return web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .putHeader("Authorization", "Bearer " + token)
                .timeout(300_000)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("mode", "full"));
    }

    Future<HttpResponse<Buffer>> fix(ClusterProcess node, String token, String tenant) {
        return web.post(node.httpPort(), "127.0.0.1", "/api/sync/fix")
                .putHeader("Authorization", "Bearer " + token)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("dry_run", false));
    }

    /** The tracked operation {@code id} from the history (any node answers). */
    JsonObject operation(ClusterProcess node, String token, String id) {
        HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", "/api/sync/fix/" + id)
                .putHeader("Authorization", "Bearer " + token)
                .send()
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getJsonObject("operation");
    }

    /**
     * Waits until the three nodes form one cluster as {@code node}'s status tells it: its {@code nodes}
     * are the three nodes' names (their {@code NODE_ID}s, as the logs say them) and its {@code node_id}
     * is its own.
     */
    void awaitMembers(ClusterProcess node) {
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        List<String> names = List.of(n1.id(), n2.id(), n3.id());
        Await.until("nodes " + names + " in node " + node.id() + "'s status", 60_000, () -> {
            JsonObject body = web.get(node.httpPort(), "127.0.0.1", "/api/sync/status")
                    .putHeader("Authorization", "Bearer " + admin)
                    .send()
                    .await()
                    .bodyAsJsonObject();
            return node.id().equals(body.getString("node_id"))
                    && names.equals(body.getJsonArray("nodes").getList());
        });
    }

    static Set<String> issues(JsonObject report) {
        Set<String> out = new TreeSet<>();
        report.getJsonArray("issues").forEach(i -> {
            JsonObject issue = (JsonObject) i;
            out.add(issue.getString("type") + " " + issue.getString("file_id"));
        });
        return out;
    }

    void assertComplete(String tenant, String id, String sha256) {
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
    Set<String> activeFiles(String tenant) {
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
    long operationsCompletedBy(String tenant, String nodeId) {
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

    long maxSeq(String tenant) {
        List<Event> recent = stores.events().recent(tenant, 1).await();
        return recent.isEmpty() ? 0 : recent.get(0).seq();
    }

    List<Long> seqsAfter(String tenant, long after) {
        List<Long> seqs = new ArrayList<>();
        for (Event e : stores.events().since(tenant, after, 100_000).await()) {
            seqs.add(e.seq());
        }
        return seqs;
    }

    @SuppressWarnings("unchecked")
    static List<Long> shownSeqs(Page page) {
        List<Object> seqs = (List<Object>) page.evaluate("() => window.trisyncReceived.map(e => e.seq)");
        return seqs.stream().map(s -> ((Number) s).longValue()).toList();
    }

    MongoClient mongo() {
        return MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(
                        ClusterProcess.storesConfig(ports).mongo()));
    }

    private Map<String, String> withEmbedder(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(embedder.nodeEnv("cluster-embed"));
        all.putAll(settings);
        return Map.copyOf(all);
    }
}
