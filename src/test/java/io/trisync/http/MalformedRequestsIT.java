package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.RawHttp.Reply;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A corpus of malformed requests, sent byte for byte to a running node: wrong JSON types and bodies,
 * tokens with claims of the wrong type, unsafe ids in every slot, multipart mutations and
 * request-line abuse. Every answer must be a 4xx with a JSON error body; afterwards the node is
 * healthy and no record, blob or temporary upload file is left.
 */
@Timeout(300)
class MalformedRequestsIT {

    static final String SECRET = "malformed-requests-secret-0123456789-abc";
    static Node node;
    static Tokens tokens;
    static String tenant;
    static String tenantToken;
    static String adminToken;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED",
                                "true",
                                "AUTH_JWT_SECRET",
                                SECRET,
                                "API_RATE_LIMIT_PER_MINUTE",
                                "100000",
                                "HTTP_IDLE_TIMEOUT_SECONDS",
                                "3")),
                        false)
                .await();
        tokens = Tokens.of(node.vertx(), SECRET);
        tenant = TestStack.unique("m");
        tenantToken = tokens.issue(tenant, false, Duration.ofMinutes(30));
        adminToken = tokens.issue(null, true, Duration.ofMinutes(30));
    }

    @AfterAll
    static void stop() {
        node.stop().await();
    }

    /** One request of the corpus and the statuses it may get. */
    record Case(String name, byte[] request, int... allowed) {}

    private static String[] headers(String token, String contentType) {
        List<String> h = new ArrayList<>(List.of("Host: 127.0.0.1", "Connection: close"));
        if (token != null) {
            h.add("Authorization: Bearer " + token);
        }
        if (contentType != null) {
            h.add("Content-Type: " + contentType);
        }
        return h.toArray(String[]::new);
    }

    private static Case json(String name, String method, String path, String body, String token, int... allowed) {
        return new Case(name, RawHttp.request(method, path, body, headers(token, "application/json")), allowed);
    }

    private static Case get(String name, String path, String token, int... allowed) {
        return new Case(name, RawHttp.request("GET", path, "", headers(token, null)), allowed);
    }

    /** A multipart upload whose body is {@code parts} as given, under {@code contentType}. */
    private static Case multipart(String name, String contentType, String parts, int... allowed) {
        return new Case(name, RawHttp.request("POST", "/api/files", parts, headers(adminToken, contentType)), allowed);
    }

    private static String part(String disposition, String contentType, String content) {
        return "--B\r\n" + (disposition == null ? "" : "Content-Disposition: " + disposition + "\r\n")
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n") + "\r\n" + content + "\r\n";
    }

    private static String signed(JsonObject claims) {
        return tokens.provider().generateToken(claims, new JWTOptions().setAlgorithm("HS256"));
    }

    static List<Case> corpus() {
        List<Case> cases = new ArrayList<>();
        // Tracked operations: kind and tenant of every wrong shape.
        for (String body : List.of(
                "{\"tenant_id\":\"" + tenant + "\"}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":null}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":5}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"nope\"}",
                "{\"tenant_id\":5,\"kind\":\"scan\"}",
                "{\"tenant_id\":\"../x\",\"kind\":\"scan\"}",
                "{\"tenant_id\":\"all\",\"kind\":\"scan\"}",
                "null",
                "",
                "[]",
                "\"x\"",
                "{",
                "{\"tenant_id\":[1],\"kind\":{}}")) {
            cases.add(json("v1/sync " + body, "POST", "/api/v1/sync", body, adminToken, 400));
        }
        // Every field optional: an empty body and the literal null mean the defaults.
        Map<String, List<String>> wrongBodies = Map.of(
                "/api/sync/fix",
                List.of(
                        "[]",
                        "5",
                        "\"x\"",
                        "{\"user_id\":5}",
                        "{\"dry_run\":\"x\"}",
                        "{\"issue_types\":\"x\"}",
                        "{\"issue_types\":[5]}",
                        "{\"file_ids\":[\"../x\"]}",
                        "{\"user_id\":\"all\"}"),
                "/api/sync/quarantine/purge",
                List.of(
                        "[]",
                        "5",
                        "\"x\"",
                        "{\"user_id\":5}",
                        "{\"older_than_days\":\"x\"}",
                        "{\"older_than_days\":-1}",
                        "{\"user_id\":\"all\"}"));
        wrongBodies.forEach((path, bodies) -> {
            for (String body : List.of("", "null")) {
                cases.add(json(path + " " + body, "POST", path, body, adminToken, 200, 202));
            }
            for (String body : bodies) {
                cases.add(json(path + " " + body, "POST", path, body, adminToken, 400));
            }
        });
        for (String body : List.of("", "null")) {
            cases.add(json("analyze " + body, "POST", "/api/sync/analyze", body, tenantToken, 200));
        }
        for (String body : List.of(
                "[]",
                "5",
                "{\"user_id\":5}",
                "{\"mode\":5}",
                "{\"mode\":\"x\"}",
                "{\"wait\":\"x\"}",
                "{\"sample_size\":\"x\"}",
                "{\"sample_size\":0}",
                "{\"seed\":1.5}",
                "{\"user_id\":\"a b\"}")) {
            cases.add(json("analyze " + body, "POST", "/api/sync/analyze", body, adminToken, 400));
        }
        // Tokens with claims of the wrong type, correctly signed: 401, never 500.
        long now = System.currentTimeMillis() / 1000;
        for (JsonObject claims : List.of(
                new JsonObject().put("sub", "x").put("tenant", tenant).put("exp", "9999999999"),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("nbf", "0"),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("iat", "0"),
                new JsonObject().put("sub", "x").put("tenant", 123),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("roles", "admin"),
                new JsonObject().put("sub", "x").put("roles", new JsonArray().add(5)),
                new JsonObject().put("sub", 5).put("tenant", tenant).put("exp", now + 600),
                new JsonObject().put("sub", "x").put("tenant", "all").put("exp", now + 600))) {
            cases.add(get("token " + claims.encode(), "/api/files", signed(claims), 401));
        }
        cases.add(get("token not base64", "/api/files", "a.b.c", 401));
        cases.add(get("token empty", "/api/files", "", 401));
        // Unsafe ids in every path and query slot.
        for (String bad : List.of("..", "a%2Fb", "a%20b", "%00", "x".repeat(300), "all", "*")) {
            cases.add(get("file " + bad, "/api/files/" + bad, adminToken, 400, 404));
            cases.add(get("file content " + bad, "/api/files/" + bad + "/content", adminToken, 400, 404));
            cases.add(get("files user_id " + bad, "/api/files?user_id=" + bad, adminToken, 400));
            cases.add(get("status " + bad, "/api/sync/status/" + bad, adminToken, 400, 404));
            cases.add(get("fix result " + bad, "/api/sync/fix/" + bad, adminToken, 400, 404));
            cases.add(get("ops user " + bad, "/api/v1/sync/operations?tenant_id=" + bad, adminToken, 400));
            cases.add(json("cancel " + bad, "POST", "/api/v1/sync/" + bad + "/cancel", "", adminToken, 400, 404));
            cases.add(json(
                    "restore " + bad, "POST", "/api/sync/quarantine/" + bad + "/restore", "", adminToken, 400, 404));
            cases.add(new Case(
                    "delete " + bad,
                    RawHttp.request(
                            "DELETE", "/api/files/" + bad + "?user_id=" + tenant, "", headers(adminToken, null)),
                    400,
                    404));
        }
        for (String limit : List.of("abc", "-1", "0", "99999999999", "1e3", "")) {
            cases.add(get("files limit " + limit, "/api/files?user_id=" + tenant + "&limit=" + limit, adminToken, 400));
            cases.add(get("events limit " + limit, "/api/sync/events/recent?limit=" + limit, adminToken, 400));
            cases.add(get("ops limit " + limit, "/api/v1/sync/operations?limit=" + limit, adminToken, 400));
        }
        cases.add(get("files cursor", "/api/files?user_id=" + tenant + "&cursor=%%%", adminToken, 400));
        cases.add(get("ops status", "/api/v1/sync/operations?status=bogus", adminToken, 400));
        // Multipart mutations.
        String file = part("form-data; name=\"file\"; filename=\"a.txt\"", "text/plain", "hello");
        String user = part("form-data; name=\"user_id\"", null, tenant);
        cases.add(multipart("empty boundary", "multipart/form-data; boundary=", user + file + "--B--\r\n", 400));
        cases.add(multipart(
                "5000-character boundary",
                "multipart/form-data; boundary=" + "b".repeat(5000),
                user + file + "--B--\r\n",
                400,
                413,
                431));
        cases.add(multipart(
                "2000-character file name",
                "multipart/form-data; boundary=B",
                user + part("form-data; name=\"file\"; filename=\"" + "n".repeat(2000) + "\"", "text/plain", "hi")
                        + "--B--\r\n",
                400));
        cases.add(multipart(
                "3000-character part content type",
                "multipart/form-data; boundary=B",
                user + part("form-data; name=\"file\"; filename=\"a.txt\"", "text/" + "p".repeat(3000), "hi")
                        + "--B--\r\n",
                400));
        cases.add(multipart(
                "10,000-character user_id",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "u".repeat(10_000)) + file + "--B--\r\n",
                400));
        cases.add(multipart(
                "1 MB user_id",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "u".repeat(1 << 20)) + file + "--B--\r\n",
                400,
                413));
        StringBuilder many = new StringBuilder(user);
        for (int i = 0; i < 1000; i++) {
            many.append(part("form-data; name=\"f" + i + "\"", null, "v"));
        }
        cases.add(multipart("1,000 form fields", "multipart/form-data; boundary=B", many + file + "--B--\r\n", 400));
        cases.add(multipart(
                "part without Content-Disposition",
                "multipart/form-data; boundary=B",
                user + part(null, "text/plain", "hello") + "--B--\r\n",
                400));
        cases.add(multipart(
                "Content-Transfer-Encoding base64",
                "multipart/form-data; boundary=B",
                user + "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--B--\r\n",
                400));
        cases.add(multipart(
                "admin upload as tenant all",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "all") + file + "--B--\r\n",
                400));
        cases.add(multipart("not multipart at all", "multipart/form-data; boundary=B", "garbage", 400));
        cases.add(multipart("JSON to the upload", "application/json", "{}", 400));
        // Request-line and header abuse.
        cases.add(new Case(
                "no Host header",
                "GET /api/files HTTP/1.1\r\nAuthorization: Bearer X\r\nConnection: close\r\n\r\n"
                        .replace("X", adminToken)
                        .getBytes(StandardCharsets.US_ASCII),
                400));
        cases.add(new Case(
                "8 kB request line",
                ("GET /api/files?x=" + "a".repeat(8192) + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400,
                414));
        cases.add(new Case(
                "64 kB header",
                ("GET /health HTTP/1.1\r\nHost: h\r\nX-Big: " + "a".repeat(65536) + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400,
                431));
        cases.add(new Case(
                "chunk size zz",
                ("POST /api/v1/sync HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
                                + "\r\nAuthorization: Bearer " + adminToken
                                + "\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400));
        cases.add(new Case(
                "HTTP/9.9", "GET /health HTTP/9.9\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 400, 505));
        cases.add(new Case(
                "HTTP/2.0 request line",
                "GET /health HTTP/2.0\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                400,
                505));
        cases.add(new Case(
                "method with spaces",
                "G E T /health HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                400));
        return cases;
    }

    @Test
    @DisplayName("Every malformed request gets a 4xx with a JSON error body; the node stays healthy and keeps nothing")
    void corpusGetsJson4xx() throws Exception {
        List<String> wrong = new ArrayList<>();
        List<Case> corpus = corpus();
        for (Case c : corpus) {
            Reply reply = RawHttp.exchange(node.httpPort(), c.request(), 15_000);
            boolean allowed = java.util.Arrays.stream(c.allowed()).anyMatch(s -> s == reply.status());
            boolean jsonBody = isJsonError(reply);
            if (!allowed || (reply.status() >= 400 && !jsonBody)) {
                wrong.add(c.name().substring(0, Math.min(120, c.name().length())) + " -> " + reply.status() + " "
                        + reply.body().substring(0, Math.min(160, reply.body().length())));
            }
        }
        assertThat(wrong)
                .as("cases answered wrongly (of " + corpus.size() + ")")
                .isEmpty();
        assertThat(RawHttp.exchange(
                                node.httpPort(),
                                RawHttp.request("GET", "/health", "", "Host: h", "Connection: close"),
                                5000)
                        .status())
                .isEqualTo(200);
        assertThat(node.stores().metadata().count(FileQuery.tenant(tenant)).await())
                .isZero();
        assertThat(node.stores().metadata().count(FileQuery.tenant("all")).await())
                .isZero();
        assertThat(node.stores()
                        .blobs()
                        .list(tenant + "/", null, 10, false)
                        .await()
                        .items())
                .isEmpty();
        assertThat(uploads()).as("temporary upload files").isEmpty();
    }

    @Test
    @DisplayName("A multipart body that stops before its closing boundary is answered 408 within the idle timeout;"
            + " its temporary file is removed")
    void stalledBodyIsAnswered408() throws Exception {
        String body = part("form-data; name=\"user_id\"", null, tenant)
                + part("form-data; name=\"file\"; filename=\"a.txt\"", "text/plain", "hello");
        byte[] head = ("POST /api/files HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + adminToken
                        + "\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: "
                        + (body.length() + 500)
                        + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
        long started = System.nanoTime();
        Reply reply = RawHttp.exchange(node.httpPort(), head, 20_000);
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(reply.status()).as(reply.body()).isEqualTo(408);
        assertThat(isJsonError(reply)).isTrue();
        assertThat(tookMs)
                .as("answered after the 3 s idle timeout, within a few seconds")
                .isBetween(2500L, 10_000L);
        io.trisync.testsupport.Await.until("the temporary upload file to go", 10_000, () -> {
            try {
                return uploads().isEmpty();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    @DisplayName("A connection on which no request begins (silent, a TLS hello, binary garbage, a request line or"
            + " headers that stop) is closed within the idle timeout")
    void silentConnectionsClosed() throws Exception {
        Map<String, byte[]> openings = new java.util.LinkedHashMap<>();
        openings.put("silent", new byte[0]);
        openings.put("TLS ClientHello", tlsClientHello());
        byte[] garbage = new byte[512];
        new java.util.Random(7).nextBytes(garbage);
        for (int i = 0; i < garbage.length; i++) {
            if (garbage[i] == '\n' || garbage[i] == '\r') {
                garbage[i] = 'x';
            }
        }
        openings.put("binary garbage", garbage);
        openings.put("half a request line", "GET /health HT".getBytes(StandardCharsets.US_ASCII));
        openings.put("headers that stop", "GET /health HTTP/1.1\r\nHost: h\r\n".getBytes(StandardCharsets.US_ASCII));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(openings.size());
        try {
            Map<String, java.util.concurrent.Future<Long>> closedAfter = new java.util.LinkedHashMap<>();
            openings.forEach((name, bytes) -> closedAfter.put(name, pool.submit(() -> closedAfterMs(bytes))));
            for (var e : closedAfter.entrySet()) {
                // The codec may refuse a TLS hello or garbage at once (a stray line end makes a bad
                // request line); what must not happen is a connection left open past the timeout.
                long low = e.getKey().equals("TLS ClientHello") || e.getKey().equals("binary garbage") ? 0 : 2_500L;
                assertThat(e.getValue().get())
                        .as(e.getKey() + ": ms until the node closed the connection (idle timeout 3 s)")
                        .isBetween(low, 8_000L);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    @DisplayName("A keep-alive connection is closed once idle for the timeout; a bridge WebSocket is not")
    void keepAliveClosedBridgeKept() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(15_000);
            socket.getOutputStream()
                    .write("GET /health HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            long started = System.nanoTime();
            byte[] all = socket.getInputStream().readAllBytes();
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(new String(all, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
            assertThat(tookMs)
                    .as("ms until the idle keep-alive connection was closed")
                    .isBetween(2_500L, 8_000L);
        }
        var client = io.vertx.core.Vertx.vertx();
        try {
            var frames = new java.util.concurrent.LinkedBlockingQueue<String>();
            var closed = new java.util.concurrent.atomic.AtomicBoolean();
            var ws = client.createWebSocketClient()
                    .connect(node.httpPort(), "127.0.0.1", "/eventbus/websocket")
                    .await();
            // The raw transport may send text or binary frames: take the data of both.
            ws.handler(data -> frames.add(data.toString()));
            ws.closeHandler(v -> closed.set(true));
            long until = System.currentTimeMillis() + 7_000;
            // Pinging as the bridge client does, for more than twice the idle timeout.
            while (System.currentTimeMillis() < until) {
                ws.writeTextMessage("{\"type\":\"ping\"}").await();
                Thread.sleep(500);
            }
            ws.writeTextMessage("{\"type\":\"register\",\"address\":\"trisync.events.x\",\"headers\":\"abc\"}")
                    .await();
            String reply = frames.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(closed).as("the bridge socket was closed").isFalse();
            assertThat(reply).as("the bridge still answers").contains("\"type\":\"err\"");
            ws.close().await();
        } finally {
            client.close().await();
        }
    }

    /** Connects, sends {@code opening}, and returns the ms until the server closed the connection. */
    private static long closedAfterMs(byte[] opening) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(20_000);
            long started = System.nanoTime();
            socket.getOutputStream().write(opening);
            socket.getOutputStream().flush();
            try {
                socket.getInputStream().readAllBytes();
            } catch (java.net.SocketException reset) {
                // A close with unread input can reach the client as a reset: closed all the same.
            }
            return (System.nanoTime() - started) / 1_000_000;
        }
    }

    /** The first bytes of a TLS 1.2 ClientHello record, as a client speaking TLS to a plain port sends. */
    private static byte[] tlsClientHello() {
        int[] head = {
            0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x5b, 0x90, 0x9d, 0x9b, 0x72, 0x0b, 0xbc,
            0x0c, 0xbc, 0x2b, 0x92, 0xa8, 0x48, 0x97, 0xcf, 0xbd, 0x39, 0x04, 0xcc, 0x16, 0x0a, 0x85, 0x03, 0x90, 0x9f,
            0x77, 0x04, 0x33, 0xd4, 0xde, 0x00, 0x00, 0x20, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xcc, 0x14
        };
        byte[] bytes = new byte[head.length];
        for (int i = 0; i < head.length; i++) {
            bytes[i] = (byte) head[i];
        }
        return bytes;
    }

    private static boolean isJsonError(Reply reply) {
        try {
            JsonObject body = new JsonObject(reply.body());
            return body.getString("error") != null
                    && body.getString("message") != null
                    && String.valueOf(reply.header("content-type")).startsWith("application/json");
        } catch (RuntimeException e) {
            return false;
        }
    }

    static List<Path> uploads() throws Exception {
        Path dir = node.config().dataDir().toAbsolutePath().resolve("uploads");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }
}
