package io.trisync.bench;

import io.trisync.auth.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client side of {@link BridgeBench}, run in its own JVM so the node's process CPU is the node's
 * alone: {@code clients} bridge sockets (SockJS's raw WebSocket transport with the official client's
 * JSON frames and its 5 s pings) over {@code tenants} tenants, each registered with its tenant token,
 * and the uploader. Driven over stdin, one command a line:
 *
 * <ul>
 *   <li>{@code round PREFIX UPLOADS RATE}: that many uploads spread over the tenants, 8 in flight, at
 *       most RATE a second (0: as fast as they complete); prints {@code done MILLIS}.
 *   <li>{@code measure PREFIX UPLOADS RATE}: the same, counting only this round's deliveries, then
 *       prints {@code result DELIVERIES REFUSALS P50 P99 MAX UPLOADS_PER_SECOND} (milliseconds).
 * </ul>
 *
 * Latency is the event's commit stamp {@code at} (set by the node before it logs the event) to the
 * frame's arrival here; both processes read the same clock.
 */
public final class BridgeClients {

    private final Vertx vertx = Vertx.vertx();
    private final int port;
    private final int tenants;
    private final Tokens tokens;
    private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger refusals = new AtomicInteger();
    private WebSocketClient wsClient;

    private BridgeClients(int port, int tenants, String secret) {
        this.port = port;
        this.tenants = tenants;
        this.tokens = Tokens.of(vertx, secret);
    }

    /** Uploads a round keeps in flight at most (the web client holds as many connections). */
    private static final int UPLOADS_IN_FLIGHT = 8;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int clients = Integer.parseInt(args[1]);
        int tenants = Integer.parseInt(args[2]);
        BridgeClients self = new BridgeClients(port, tenants, args[3]);
        self.connect(clients);
        System.out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        WebClient web = BenchSupport.webClient(self.vertx, UPLOADS_IN_FLIGHT);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] c = line.trim().split(" ");
            long started = System.currentTimeMillis();
            if (c[0].equals("measure")) {
                self.latencies.clear();
                self.refusals.set(0);
            }
            self.round(web, c[1], Integer.parseInt(c[2]), Long.parseLong(c[3]));
            long millis = System.currentTimeMillis() - started;
            if (c[0].equals("round")) {
                System.out.println("done " + millis);
            } else {
                Thread.sleep(2000);
                System.out.println(self.result(Integer.parseInt(c[2]) * 1000.0 / millis));
            }
        }
        self.vertx.close().await();
    }

    private void connect(int clients) {
        // Held in a field: Vert.x closes a client, and its sockets, once it is garbage.
        wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(clients + 10));
        List<WebSocket> sockets = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            String tenant = "bench-t" + (i % tenants);
            WebSocket ws =
                    wsClient.connect(port, "127.0.0.1", "/eventbus/websocket").await();
            ws.handler(this::frame);
            ws.writeTextMessage(new JsonObject()
                    .put("type", "register")
                    .put("address", "trisync.events." + tenant)
                    .put("headers", new JsonObject().put("token", token(tenant)))
                    .encode());
            sockets.add(ws);
        }
        String ping = new JsonObject().put("type", "ping").encode();
        vertx.setPeriodic(5000, t -> sockets.forEach(ws -> ws.writeTextMessage(ping)));
    }

    private void frame(Buffer data) {
        long now = System.currentTimeMillis();
        JsonObject frame = new JsonObject(data);
        if ("err".equals(frame.getString("type"))) {
            refusals.incrementAndGet();
        }
        JsonObject body = frame.getJsonObject("body");
        if ("rec".equals(frame.getString("type")) && body != null && body.getString("at") != null) {
            latencies.add(now - Instant.parse(body.getString("at")).toEpochMilli());
        }
    }

    private String token(String tenant) {
        return tokens.issue(tenant, false, Duration.ofHours(1));
    }

    /** {@code uploads} small uploads spread over the tenants, 8 in flight, at most {@code rate} a second. */
    private void round(WebClient web, String prefix, int uploads, long rate) throws InterruptedException {
        List<Future<?>> inFlight = new ArrayList<>();
        long start = System.nanoTime();
        for (int u = 0; u < uploads; u++) {
            if (rate > 0) {
                long due = start + u * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            String tenant = "bench-t" + (u % tenants);
            MultipartForm form = MultipartForm.create()
                    .attribute("user_id", tenant)
                    .textFileUpload("file", prefix + u + ".txt", Buffer.buffer("note number " + u), "text/plain");
            inFlight.add(web.post(port, "127.0.0.1", "/api/files")
                    .bearerTokenAuthentication(token(tenant))
                    .sendMultipartForm(form));
            inFlight.removeIf(Future::isComplete);
            while (inFlight.size() >= UPLOADS_IN_FLIGHT) {
                Future.any(inFlight).await();
                inFlight.removeIf(Future::isComplete);
            }
        }
        Future.join(inFlight).await();
    }

    private String result(double uploadsPerSecond) {
        long[] ms = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return String.format(
                Locale.ROOT,
                "result %d %d %d %d %d %.1f",
                ms.length,
                refusals.get(),
                percentile(ms, 0.50),
                percentile(ms, 0.99),
                ms.length == 0 ? -1 : ms[ms.length - 1],
                uploadsPerSecond);
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
