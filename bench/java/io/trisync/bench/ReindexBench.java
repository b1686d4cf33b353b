package io.trisync.bench;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.ChunkPoint;
import io.trisync.store.Stores;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Re-index throughput: a tenant of files of four chunks each, recorded as embedded by another
 * model, re-indexed through the {@code reindex} operation with an OpenAI-compatible provider on
 * loopback that answers at once (the store-bound ceiling) and with the local model; beside it, in
 * the same run, the raw Qdrant upsert rate of as many points. Prints figures; never fails on timing.
 *
 * <pre>mvn -B -Pbench test -Dtest=ReindexBench [-Dbench.reindex.files=10000 -Dbench.reindex.local=200]</pre>
 */
@Tag("bench")
class ReindexBench {

    /** About 510 words: four chunks of 150 words with 30 words of overlap. */
    static final int WORDS = 505;

    @Test
    void reindex() throws Exception {
        int files = Integer.getInteger("bench.reindex.files", 10_000);
        int localFiles = Integer.getInteger("bench.reindex.local", 200);
        List<String> rows = new ArrayList<>();
        try (EmbeddingServer server = new EmbeddingServer(384)) {
            Map<String, String> provider = Map.of(
                    "EMBEDDING_PROVIDER", "openai",
                    "EMBEDDING_URL", server.url(),
                    "EMBEDDING_MODEL", "bench-new",
                    "EMBEDDING_BATCH_SIZE", "32");
            Node node = Node.start(config(provider), false).await();
            try {
                rows.add(run(node, "instant provider", "bench-instant", files));
                rows.add(qdrantFloor(node.stores(), files * 4));
            } finally {
                node.stop().await();
            }
        }
        Node local = Node.start(config(Map.of()), false).await();
        try {
            rows.add(run(local, "local model", "bench-local", localFiles));
        } finally {
            local.stop().await();
        }
        String out = String.join("\n", rows);
        System.out.println("\n=== Re-index ===\n" + out + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/reindex.md"), out + "\n");
    }

    private static TrisyncConfig config(Map<String, String> extra) throws Exception {
        Path data = Files.createTempDirectory("trisync-reindex-bench");
        Map<String, String> env = new HashMap<>(extra);
        env.put("EMBEDDED_PERSIST", "false");
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", data.toString());
        env.put("AUTH_ENABLED", "false");
        env.put("API_RATE_LIMIT_PER_MINUTE", "10000000");
        return ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
    }

    private static String run(Node node, String label, String tenant, int files) {
        long t0 = System.nanoTime();
        seed(node.stores(), tenant, files, node.config().sync().partitions());
        double seeded = (System.nanoTime() - t0) / 1e9;
        WebClient web = WebClient.create(node.vertx());
        try {
            long start = System.nanoTime();
            HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/v1/sync")
                    .sendJsonObject(new JsonObject().put("tenant_id", tenant).put("kind", "reindex"))
                    .await();
            if (r.statusCode() != 202) {
                throw new AssertionError("reindex: " + r.statusCode() + " " + r.bodyAsString());
            }
            JsonObject[] latest = {null};
            // Once a second: the status read counts the tenant's files, which on the embedded
            // MongoDB is a scan of the collection that would compete with the re-index.
            while (latest[0] == null || "running".equals(latest[0].getString("status"))) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                latest[0] = web.get(node.httpPort(), "127.0.0.1", "/api/v1/sync/status?tenant_id=" + tenant)
                        .send()
                        .await()
                        .bodyAsJsonObject()
                        .getJsonObject("latest_sync");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            JsonObject result = latest[0].getJsonObject("result", new JsonObject());
            return String.format(
                    Locale.ROOT,
                    "| %-16s | %,7d files | %s in %6.1f s (seeded in %.1f s) | re-embedding %,8.1f files/s, %,9.1f chunks/s (%.1f s), then verifying %.1f s | batch size settled at %d | stale after: %s, issues after: %s |",
                    label,
                    files,
                    latest[0].getString("status"),
                    seconds,
                    seeded,
                    result.getDouble("files_per_second", 0.0),
                    result.getDouble("chunks_per_second", 0.0),
                    result.getDouble("reembed_seconds", 0.0),
                    result.getDouble("verify_seconds", 0.0),
                    result.getInteger("batch_size", 0),
                    result.getValue("stale_after"),
                    result.getValue("issues_after"));
        } finally {
            web.close();
        }
    }

    /** Files of four chunks with their blobs and records, the records naming an older model. */
    private static void seed(Stores stores, String tenant, int files, int partitions) {
        SeededFiles.write(
                stores,
                tenant,
                "r",
                files,
                partitions,
                "bench-old@384",
                4,
                i -> Fixtures.utf8(Fixtures.prose(WORDS) + " " + String.format("r-%07d", i)));
    }

    /** The raw Qdrant upsert rate: {@code n} points of 384 dimensions, 256 to a request, 4 requests at once. */
    private static String qdrantFloor(Stores stores, int n) {
        float[] v = new float[384];
        v[0] = 1;
        List<ChunkPoint> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(ChunkPoint.of("floor", "f-" + (i / 4), i % 4, 0, "s", "m", v));
        }
        long t = System.nanoTime();
        StoreFloorsBench.lanes(4, (n + 255) / 256, b -> stores.vectors()
                        .upsert(all.subList(b * 256, Math.min(n, (b + 1) * 256))))
                .await();
        double seconds = (System.nanoTime() - t) / 1e9;
        return String.format(
                Locale.ROOT,
                "| qdrant floor     | %,7d points upserted raw (256 a request, 4 at once) in %.1f s | %,9.0f points/s | (= %,.0f files of 4 chunks a second) |",
                n,
                seconds,
                n / seconds,
                n / seconds / 4);
    }
}
