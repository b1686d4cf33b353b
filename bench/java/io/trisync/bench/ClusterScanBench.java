package io.trisync.bench;

import io.trisync.events.EventTypes;
import io.trisync.store.Event;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ClusterProcess;
import io.trisync.testsupport.ClusterProcess.StorePorts;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A full scan of one large tenant with 1, 2 and 3 node processes on this machine (started with
 * {@code bin/cluster-node}, node 1 holding the embedded stores), then the time from a SIGKILL to
 * (a) the killed node's scan operation failed and (b) a scan whose partition worker was killed
 * finished on the others. Prints figures; never fails on timing.
 *
 * <pre>mvn -B -Pbench test -Dtest=ClusterScanBench [-Dbench.cluster.files=50000]</pre>
 */
@Tag("bench")
class ClusterScanBench {

    static final int P = 64;

    @Test
    void scanAcrossNodes() throws Exception {
        int files = Integer.getInteger("bench.cluster.files", 50_000);
        Path dir = TestStack.tempDir("trisync-cluster-bench");
        StorePorts ports = StorePorts.free();
        Map<String, String> env = Map.of(
                "CLUSTER_NAME", TestStack.unique("bench"),
                "AUTH_ENABLED", "false",
                "SYNC_SCAN_PARALLELISM", "6",
                "SYNC_HEARTBEAT_INTERVAL_SECONDS", "2",
                "JAVA_OPTS", "-Xmx1g -XX:-UsePerfData");
        ClusterProcess n1 = new ClusterProcess(1, dir, ports, env);
        ClusterProcess n2 = new ClusterProcess(2, dir, ports, env);
        ClusterProcess n3 = new ClusterProcess(3, dir, ports, env);
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx, new WebClientOptions().setIdleTimeout(600));
        List<String> rows = new ArrayList<>();
        try {
            n1.start(Map.of(), 180);
            Stores stores = Stores.create(vertx, ClusterProcess.storesConfig(ports));
            String tenant = "cluster-bench-" + files;
            long t0 = System.nanoTime();
            new SeededTenant(tenant, files, P).seed(stores);
            rows.add(String.format(Locale.ROOT, "N=%,d files seeded in %.1f s", files, (System.nanoTime() - t0) / 1e9));
            scan(web, n1, tenant); // warm-up, not measured: JIT and the faults' first recording
            rows.add(measure(web, n1, tenant, "1 node"));
            n2.start(Map.of(), 180);
            rows.add(measure(web, n1, tenant, "2 nodes"));
            n3.start(Map.of(), 180);
            scan(web, n3, tenant); // node 3's first scan warms its JIT
            rows.add(measure(web, n1, tenant, "3 nodes"));

            // (a) a scan coordinated by node 2 (it took the request), node 2 killed part way.
            long seq = maxSeq(stores, tenant);
            Future<HttpResponse<Buffer>> owned = analyze(web, n2, tenant);
            awaitProgress(stores, tenant, seq);
            long killed = System.nanoTime();
            n2.kill();
            Await.until("node 2's scan to be failed", 60_000, () -> {
                HttpResponse<Buffer> r = web.get(n1.httpPort(), "127.0.0.1", "/api/v1/sync/status?tenant_id=" + tenant)
                        .send()
                        .await();
                return "failed"
                        .equals(r.bodyAsJsonObject()
                                .getJsonObject("latest_sync")
                                .getString("status"));
            });
            rows.add(String.format(
                    Locale.ROOT,
                    "SIGKILL of the node running a scan -> its operation failed (seen from node 1): %.2f s",
                    (System.nanoTime() - killed) / 1e9));
            owned.otherwiseEmpty().await();

            // (b) a scan coordinated by node 1, partition worker node 3 killed part way.
            n2.start(Map.of(), 180);
            long calm = timeScan(web, n1, tenant);
            seq = maxSeq(stores, tenant);
            long start = System.nanoTime();
            Future<HttpResponse<Buffer>> scan = analyze(web, n1, tenant);
            awaitProgress(stores, tenant, seq);
            long kill = System.nanoTime();
            n3.kill();
            JsonObject report = scan.await().bodyAsJsonObject();
            long end = System.nanoTime();
            rows.add(String.format(
                    Locale.ROOT,
                    "SIGKILL of a partition worker %.1f s into a scan -> scan finished %.1f s later (%.1f s in all; %.1f s without the kill, 3 nodes); scanned_by %s",
                    (kill - start) / 1e9,
                    (end - kill) / 1e9,
                    (end - start) / 1e9,
                    calm / 1e9,
                    report.getJsonObject("scanned_by").encode()));
            stores.close().await();
        } finally {
            n3.close();
            n2.close();
            n1.close();
            web.close();
            vertx.close().await();
        }
        String out = String.join("\n", rows);
        System.out.println("\n=== Cluster scan ===\n" + out + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/cluster-scan.md"), out + "\n");
    }

    private static String measure(WebClient web, ClusterProcess via, String tenant, String label) {
        long nanos = timeScan(web, via, tenant);
        JsonObject report = scan(web, via, tenant);
        long files = report.getJsonObject("summary").getLong("total_files");
        long second = timeScan(web, via, tenant);
        long best = Math.min(nanos, second);
        return String.format(
                Locale.ROOT,
                "| %-8s | full scan | %,9d files | best of 2: %6.1f s = %,7.0f files/s | scanned_by %s |",
                label,
                files,
                best / 1e9,
                files / (best / 1e9),
                report.getJsonObject("scanned_by").encode());
    }

    private static long timeScan(WebClient web, ClusterProcess via, String tenant) {
        long t = System.nanoTime();
        scan(web, via, tenant);
        return System.nanoTime() - t;
    }

    private static JsonObject scan(WebClient web, ClusterProcess via, String tenant) {
        HttpResponse<Buffer> r = analyze(web, via, tenant).await();
        if (r.statusCode() != 200) {
            throw new AssertionError("scan via " + via.id() + ": " + r.statusCode() + " " + r.bodyAsString());
        }
        return r.bodyAsJsonObject();
    }

    private static Future<HttpResponse<Buffer>> analyze(WebClient web, ClusterProcess via, String tenant) {
        return web.post(via.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .timeout(600_000)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("mode", "full"));
    }

    private static long maxSeq(Stores stores, String tenant) {
        List<Event> recent = stores.events().recent(tenant, 1).await();
        return recent.isEmpty() ? 0 : recent.get(0).seq();
    }

    /** Until the running scan has reported a fifth of its partitions done. */
    private static void awaitProgress(Stores stores, String tenant, long afterSeq) {
        Await.until(
                "the scan to be a fifth done",
                120_000,
                () -> stores.events().since(tenant, afterSeq, 1000).await().stream()
                        .filter(e -> EventTypes.OP_PROGRESS.equals(e.type()))
                        .anyMatch(e -> e.data().getLong("currentFile") >= P / 5));
    }
}
