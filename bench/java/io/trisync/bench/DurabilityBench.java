package io.trisync.bench;

import static io.trisync.bench.BenchSupport.perSecond;
import static io.trisync.bench.BenchSupport.percentileMs;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedMongo;
import io.trisync.ingest.IngestHooks;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The price of durability, side by side in one run: the embedded MongoDB's single-document insert
 * rate at concurrency 16 and the ingest store pipeline (HTTP uploads with a precomputed vector, the
 * persistent embedded stack), each with the old background commit (the stock H2 backend, a kill
 * loses about the last second), with every write journaled before its reply (the default: the H2
 * file itself committed about once a second), and with the journal forced to the device. Each round
 * runs every variant, starting with a different one, so that drift of this machine's speed (the JIT
 * still compiling, for one) falls on every variant alike.
 *
 * <p>{@code -Dbench.durability.inserts} (default 20000), {@code -Dbench.durability.uploads} (2000),
 * {@code -Dbench.durability.rounds} (2), {@code -Dbench.durability.parts} (inserts,pipeline).
 */
@Tag("bench")
class DurabilityBench {

    private static final int CONCURRENCY = 16;

    /** How the embedded MongoDB commits. */
    enum Commit {
        BACKGROUND("background commit (old)"),
        BEFORE_REPLY("journaled before reply"),
        FSYNC("journaled + fsync before reply");

        final String label;

        Commit(String label) {
            this.label = label;
        }
    }

    @Test
    void durability() throws Exception {
        int inserts = Integer.getInteger("bench.durability.inserts", 20_000);
        int uploads = Integer.getInteger("bench.durability.uploads", 2_000);
        int rounds = Integer.getInteger("bench.durability.rounds", 2);
        String parts = System.getProperty("bench.durability.parts", "inserts,pipeline");
        List<String> rows = new ArrayList<>();
        rows.add(
                "| round | what                                           | n      | throughput         | p50 ms | p99 ms |");
        rows.add(
                "|-------|------------------------------------------------|--------|--------------------|--------|--------|");
        Vertx vertx = Vertx.vertx();
        try {
            for (int round = 1; round <= rounds && parts.contains("inserts"); round++) {
                for (Commit commit : order(round)) {
                    rows.add(inserts(vertx, commit, inserts, round));
                }
            }
            for (int round = 1; round <= rounds && parts.contains("pipeline"); round++) {
                for (Commit commit : order(round)) {
                    rows.add(pipeline(commit, uploads, round));
                }
            }
        } finally {
            vertx.close().await();
        }
        String report = String.join("\n", rows);
        System.out.println(
                "\n=== Durability: embedded MongoDB commits, concurrency " + CONCURRENCY + " ===\n" + report + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/durability.md"), report + "\n");
    }

    /** The variants in a rotated order: each round starts with the next one, so none always runs first. */
    private static List<Commit> order(int round) {
        List<Commit> all = new ArrayList<>(List.of(Commit.values()));
        Collections.rotate(all, -(round - 1));
        return all;
    }

    /** Single-document inserts from one client at the bench's concurrency, after a warm-up. */
    private static String inserts(Vertx vertx, Commit commit, int n, int round) throws Exception {
        try (Server server = Server.start(commit)) {
            MongoClient client = MongoClient.create(
                    vertx,
                    new JsonObject()
                            .put("connection_string", server.uri())
                            .put("db_name", "bench")
                            .put("maxPoolSize", 50));
            try {
                insertAll(client, "warmup", Math.min(n, 5_000), new long[Math.min(n, 5_000)]);
                long[] latencies = new long[n];
                long start = System.nanoTime();
                insertAll(client, "docs", n, latencies);
                return row(
                        round,
                        "MongoDB single inserts, " + commit.label,
                        n,
                        "docs/s",
                        System.nanoTime() - start,
                        latencies);
            } finally {
                client.close().await();
            }
        }
    }

    private static void insertAll(MongoClient client, String collection, int n, long[] latencies) {
        StoreFloorsBench.lanes(CONCURRENCY, n, i -> {
                    long t0 = System.nanoTime();
                    return client.insert(
                                    collection,
                                    new JsonObject()
                                            .put("_id", "d" + i)
                                            .put("n", i)
                                            .put("pad", "x".repeat(200)))
                            .onSuccess(id -> latencies[i] = System.nanoTime() - t0);
                })
                .await();
    }

    /** HTTP uploads through the store pipeline on the persistent embedded stack, MongoDB as {@code commit}. */
    private static String pipeline(Commit commit, int n, int round) throws Exception {
        try (Server server = Server.start(commit)) {
            Node node = Node.start(config(server.uri()), false, IngestHooks.NONE, new IngestBench.PrecomputedModel())
                    .await();
            WebClient client = BenchSupport.webClient(node.vertx(), CONCURRENCY);
            try {
                upload(client, node, "warmup", 2_000, new long[2_000]);
                long[] latencies = new long[n];
                long start = System.nanoTime();
                upload(client, node, "bench", n, latencies);
                return row(
                        round,
                        "ingest store pipeline, " + commit.label,
                        n,
                        "files/s",
                        System.nanoTime() - start,
                        latencies);
            } finally {
                client.close();
                node.stop().await();
            }
        }
    }

    private static void upload(WebClient client, Node node, String tenant, int n, long[] latencies) {
        StoreFloorsBench.lanes(CONCURRENCY, n, i -> {
                    long t0 = System.nanoTime();
                    MultipartForm form = MultipartForm.create()
                            .attribute("user_id", tenant)
                            .binaryFileUpload(
                                    "file",
                                    "f" + i + ".txt",
                                    Buffer.buffer(IngestBench.text4k(tenant.hashCode() + i)),
                                    "text/plain");
                    return client.post(node.httpPort(), "127.0.0.1", "/api/files")
                            .sendMultipartForm(form)
                            .compose(r -> r.statusCode() == 201
                                    ? Future.succeededFuture(r)
                                    : Future.failedFuture(
                                            "upload " + i + ": " + r.statusCode() + " " + r.bodyAsString()))
                            .onSuccess(r -> latencies[i] = System.nanoTime() - t0);
                })
                .await();
    }

    private static TrisyncConfig config(String mongoUri) throws Exception {
        Path data = Files.createTempDirectory("trisync-durability-bench");
        Map<String, String> env = new HashMap<>();
        env.put("MONGO_URI", mongoUri);
        env.put("EMBEDDED_PERSIST", "true");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", data.toString());
        env.put("AUTH_ENABLED", "false");
        env.put("API_RATE_LIMIT_PER_MINUTE", "10000000");
        // The store pipeline embeds with PrecomputedModel, a model the configuration does not name: side by
        // side, the node would refuse its points as another model's (the pointer records the configured one).
        env.put("EMBEDDING_MODEL_CHANGE", "in_place");
        return ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
    }

    private static String row(int round, String what, int n, String unit, long nanos, long[] latencies) {
        return String.format(
                Locale.ROOT,
                "| %5d | %-46s | %6d | %,10.0f %-7s | %6.1f | %6.1f |",
                round,
                what,
                n,
                perSecond(n, nanos),
                unit,
                percentileMs(latencies, 50),
                percentileMs(latencies, 99));
    }

    /** An embedded MongoDB-wire server on a fresh H2 file, committing as asked. */
    private record Server(AutoCloseable server, String uri) implements AutoCloseable {

        static Server start(Commit commit) throws Exception {
            Path dir = Files.createTempDirectory("trisync-durability-mongo");
            if (commit == Commit.BACKGROUND) {
                MongoServer stock =
                        new MongoServer(new H2Backend(dir.resolve("stock.mv").toString()));
                var address = stock.bind();
                return new Server(stock::shutdown, "mongodb://127.0.0.1:" + address.getPort());
            }
            EmbeddedMongo durable = EmbeddedMongo.start(0, dir, commit == Commit.FSYNC);
            return new Server(durable, durable.connectionString());
        }

        @Override
        public void close() throws Exception {
            server.close();
        }
    }
}
