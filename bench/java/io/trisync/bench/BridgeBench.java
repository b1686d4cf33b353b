package io.trisync.bench;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.ingest.IngestHooks;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 500 bridge clients (SockJS's raw WebSocket transport, the official client's JSON frames) over 50
 * tenants, each subscribed with its tenant token; uploads (store pipeline with a precomputed vector,
 * so the model does not throttle them) produce the events. Prints the latency from the event's commit
 * ({@code at}, stamped before it is logged) to receipt by each client, p50/p99/max, and the process's
 * CPU (node and clients share this JVM, so it is an upper bound for the node). Asserts nothing.
 */
@Tag("bench")
class BridgeBench {

    static final String SECRET = "bench-secret-0123456789abcdef-0123456789";

    @Test
    void bridge() throws Exception {
        int clients = Integer.getInteger("bench.bridge.clients", 500);
        int tenants = Integer.getInteger("bench.bridge.tenants", 50);
        int uploads = Integer.getInteger("bench.bridge.uploads", 300);
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", "false");
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", Files.createTempDirectory("trisync-bridge-bench").toString());
        env.put("AUTH_ENABLED", "true");
        env.put("AUTH_JWT_SECRET", SECRET);
        env.put("API_RATE_LIMIT_PER_MINUTE", "100000");
        TrisyncConfig config =
                ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
        Node node = Node.start(config, false, IngestHooks.NONE, new IngestBench.PrecomputedModel())
                .await();
        Vertx vertx = Vertx.vertx();
        try {
            Tokens tokens = Tokens.of(vertx, SECRET);
            ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
            java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
            // The client's default allows 50 WebSockets per server; every one of ours must connect.
            WebSocketClient wsClient = vertx.createWebSocketClient(
                    new io.vertx.core.http.WebSocketClientOptions().setMaxConnections(clients + 10));
            List<WebSocket> sockets = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String tenant = "bench-t" + (i % tenants);
                WebSocket ws = wsClient.connect(node.httpPort(), "127.0.0.1", "/eventbus/websocket")
                        .await();
                ws.handler(data -> {
                    long now = System.currentTimeMillis();
                    JsonObject frame = new JsonObject(data);
                    JsonObject body = frame.getJsonObject("body");
                    if ("err".equals(frame.getString("type"))) {
                        refusals.incrementAndGet();
                    }
                    if ("rec".equals(frame.getString("type")) && body != null && body.getString("at") != null) {
                        latencies.add(now - Instant.parse(body.getString("at")).toEpochMilli());
                    }
                });
                ws.writeTextMessage(new JsonObject()
                        .put("type", "register")
                        .put("address", "trisync.events." + tenant)
                        .put("headers", new JsonObject().put("token", tokens.issue(tenant, false, Duration.ofHours(1))))
                        .encode());
                sockets.add(ws);
            }
            Thread.sleep(2000);
            WebClient web = WebClient.create(vertx);
            // A first round of the same uploads lets the JIT compile the path (tens of seconds of
            // compiling on 2 cores); only the second round is measured.
            uploadRound(web, node, tokens, uploads, tenants, "w");
            Thread.sleep(2000);
            latencies.clear();
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long wall0 = System.nanoTime();
            uploadRound(web, node, tokens, uploads, tenants, "n");
            Thread.sleep(2000);
            double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
            double wallSeconds = (System.nanoTime() - wall0) / 1e9;
            long[] ms = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            int expected = uploads * 2 * (clients / tenants);
            String report = String.format(
                    Locale.ROOT,
                    "%d clients over %d tenants, %d uploads: %,d deliveries (expected %,d), %d refusals; commit→client latency p50 %d ms, p99 %d ms, max %d ms;"
                            + " process CPU %.0f%% of one core over %.1f s (node, embedded stores and the clients together, 2 cores)",
                    clients,
                    tenants,
                    uploads,
                    ms.length,
                    expected,
                    refusals.get(),
                    ms.length == 0 ? -1 : ms[(int) Math.ceil(0.50 * ms.length) - 1],
                    ms.length == 0 ? -1 : ms[(int) Math.ceil(0.99 * ms.length) - 1],
                    ms.length == 0 ? -1 : ms[ms.length - 1],
                    100 * cpuSeconds / wallSeconds,
                    wallSeconds);
            System.out.println("\n=== Bridge ===\n" + report + "\n");
            Files.createDirectories(Path.of("target/bench"));
            Files.writeString(Path.of("target/bench/bridge.md"), report + "\n");
            sockets.forEach(WebSocket::close);
            web.close();
        } finally {
            vertx.close().await();
            node.stop().await();
        }
    }

    /** {@code uploads} small uploads spread over the tenants, 8 in flight at a time. */
    private static void uploadRound(WebClient web, Node node, Tokens tokens, int uploads, int tenants, String prefix) {
        List<Future<?>> inFlight = new ArrayList<>();
        for (int u = 0; u < uploads; u++) {
            String tenant = "bench-t" + (u % tenants);
            MultipartForm form = MultipartForm.create()
                    .attribute("user_id", tenant)
                    .textFileUpload("file", prefix + u + ".txt", Buffer.buffer("note number " + u), "text/plain");
            inFlight.add(web.post(node.httpPort(), "127.0.0.1", "/api/files")
                    .bearerTokenAuthentication(tokens.issue(tenant, false, Duration.ofHours(1)))
                    .sendMultipartForm(form));
            if (inFlight.size() == 8) {
                Future.all(inFlight).await();
                inFlight.clear();
            }
        }
        Future.all(inFlight).await();
    }
}
