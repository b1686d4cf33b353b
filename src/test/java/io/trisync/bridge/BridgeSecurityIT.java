package io.trisync.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.events.EventAddresses;
import io.trisync.events.EventPublisher;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.TestStack;
import io.trisync.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The SockJS bridge's permissions, each case its own test, through the raw WebSocket transport. */
@Timeout(120)
class BridgeSecurityIT {

    static final String SECRET = "bridge-test-secret-0123456789abcdef-xyz";
    static Node node;
    static Vertx client;
    static Tokens tokens;
    static EventPublisher events;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED", "true",
                                "AUTH_JWT_SECRET", SECRET,
                                "EVENT_QUEUE_SIZE", "150",
                                "BRIDGE_MAX_MESSAGES_PER_SECOND", "40",
                                "BRIDGE_MAX_MESSAGE_BYTES", "4096")),
                        false)
                .await();
        client = Vertx.vertx();
        tokens = Tokens.of(client, SECRET);
        events = new EventPublisher(node.vertx().eventBus(), node.stores().events());
    }

    @AfterAll
    static void stop() {
        client.close().await();
        node.stop().await();
    }

    /** A frame posted to {@code session} by {@code xhr_send} and {@code jsonp_send} is a JSON 404 naming the session. */
    private static void sendsAreRefusedWithJson(WebClient web, String session, String... named) {
        for (String transport : List.of("xhr_send", "jsonp_send")) {
            var r = web.post(node.httpPort(), "127.0.0.1", session + "/" + transport)
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(Buffer.buffer(new JsonArray().add("{}").encode()))
                    .await();
            assertThat(r.statusCode()).as(transport + " " + r.bodyAsString()).isEqualTo(404);
            assertThat(r.getHeader("Content-Type")).as(transport).isEqualTo("application/json");
            assertThat(r.bodyAsJsonObject().getString("message"))
                    .as(transport)
                    .startsWith("session: ")
                    .contains(named);
        }
    }

    private static String token(String tenant) {
        return tokens.issue(tenant, false, Duration.ofMinutes(5));
    }

    private static BridgeSocket socket() {
        return new BridgeSocket(client, node.httpPort(), BridgeSecurityIT::publish);
    }

    private static JsonObject publish(String tenant) {
        return events.publish(tenant, "file.uploaded", "f-" + System.nanoTime(), null, new JsonObject())
                .await()
                .toJson();
    }

    /** Waits for {@code condition}, up to 5 s. */
    private static void await(BooleanSupplier condition, String what) {
        Await.until(what, 5000, condition);
    }

    @Test
    @DisplayName("SockJS's XHR fallback (a browser that cannot open a WebSocket): frames posted to xhr_send are"
            + " taken (204), and the tenant's events arrive by XHR polling")
    void xhrTransport() {
        String t = TestStack.unique("x");
        // Vert.x's XHR polling transport closes the connection after each poll's answer: a pooled
        // connection reused for the next request could be closed under it.
        WebClient web = WebClient.create(client, new WebClientOptions().setKeepAlive(false));
        try {
            String session = "/eventbus/123/" + TestStack.unique("s");
            var open = web.post(node.httpPort(), "127.0.0.1", session + "/xhr")
                    .send()
                    .await();
            assertThat(open.bodyAsString()).startsWith("o");
            JsonObject frame = new JsonObject()
                    .put("type", "register")
                    .put("address", EventAddresses.tenant(t))
                    .put("headers", new JsonObject().put("token", token(t)));
            var sent = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(
                            Buffer.buffer(new JsonArray().add(frame.encode()).encode()))
                    .await();
            assertThat(sent.statusCode()).as(sent.bodyAsString()).isEqualTo(204);
            // A posted body over the bridge's limit is refused before it is parsed; the session lives on.
            var oversized = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(Buffer.buffer("x".repeat(Bridge.MAX_POSTED_BYTES + 1)))
                    .await();
            assertThat(oversized.statusCode()).isEqualTo(413);
            Await.until("the tenant's event by XHR polling", 10_000, () -> {
                publish(t);
                String body = web.post(node.httpPort(), "127.0.0.1", session + "/xhr")
                        .send()
                        .await()
                        .bodyAsString();
                return body.startsWith("a") && body.contains("\\\"address\\\":\\\"" + EventAddresses.tenant(t));
            });
        } finally {
            web.close();
        }
    }

    @Test
    @DisplayName("Under the bridge's SockJS mount, a frame posted to a session that is not open (xhr_send, jsonp_send)"
            + " is 404 with the JSON error body naming the session (SockJS answered it empty), an empty or broken frame"
            + " posted to an open one (not JSON) is 400 naming the body (SockJS: 500 in plain text), as every other unknown path"
            + " there is a JSON 404; the transports' own paths answer as before")
    void sockJsRefusalsAreJson() {
        WebClient web = WebClient.create(client, new WebClientOptions().setKeepAlive(false));
        try {
            String missing = TestStack.unique("s");
            sendsAreRefusedWithJson(web, "/eventbus/123/" + missing, missing);
            for (String path : List.of("/eventbus/nope", "/eventbus/123/" + missing + "/nope", "/eventbus/info/x")) {
                var r = web.get(node.httpPort(), "127.0.0.1", path).send().await();
                assertThat(r.statusCode()).as(path).isEqualTo(404);
                assertThat(r.getHeader("Content-Type")).as(path).isEqualTo("application/json");
                assertThat(r.bodyAsJsonObject().getString("error")).as(path).isEqualTo("not_found");
            }
            String session = "/eventbus/123/" + TestStack.unique("s");
            var open = web.post(node.httpPort(), "127.0.0.1", session + "/xhr")
                    .send()
                    .await();
            assertThat(open.bodyAsString()).startsWith("o");
            for (String frame : List.of("", "not json", "[\"a\"")) {
                var r = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                        .putHeader("Content-Type", "text/plain")
                        .sendBuffer(Buffer.buffer(frame))
                        .await();
                assertThat(r.statusCode())
                        .as("'" + frame + "' " + r.bodyAsString())
                        .isEqualTo(400);
                assertThat(r.getHeader("Content-Type")).as(frame).isEqualTo("application/json");
                assertThat(r.bodyAsJsonObject().getString("message")).as(frame).startsWith("body: ");
            }
            var ping = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(Buffer.buffer(new JsonArray()
                            .add(new JsonObject().put("type", "ping").encode())
                            .encode()))
                    .await();
            assertThat(ping.statusCode())
                    .as("the session lives on: " + ping.bodyAsString())
                    .isEqualTo(204);
            // What SockJS takes is left to it (the bridge answers a frame that is none of its messages).
            var number = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(Buffer.buffer("[1]"))
                    .await();
            assertThat(number.statusCode()).as(number.bodyAsString()).isEqualTo(204);
            var info = web.get(node.httpPort(), "127.0.0.1", "/eventbus/info")
                    .send()
                    .await();
            assertThat(info.statusCode()).isEqualTo(200);
            assertThat(info.bodyAsJsonObject().getBoolean("websocket")).isTrue();
            assertThat(web.get(node.httpPort(), "127.0.0.1", "/eventbus/")
                            .send()
                            .await()
                            .bodyAsString())
                    .isEqualTo("Welcome to SockJS!\n");
        } finally {
            web.close();
        }
    }

    @Test
    @DisplayName("A frame posted to a session that has closed while SockJS still keeps it (its poll answers the close"
            + " frame) is 404 with the JSON error body naming the session, as one never opened is (SockJS answered it"
            + " empty)")
    void closedSessionSendIsJson() {
        WebClient web = WebClient.create(client, new WebClientOptions().setKeepAlive(false));
        try {
            String id = TestStack.unique("s");
            String session = "/eventbus/123/" + id;
            var open = web.post(node.httpPort(), "127.0.0.1", session + "/xhr")
                    .send()
                    .await();
            assertThat(open.bodyAsString()).startsWith("o");
            // More frames at once than the node takes in a second (40 here): the bridge closes the session.
            JsonArray pings = new JsonArray();
            for (int i = 0; i <= 40; i++) {
                pings.add(new JsonObject().put("type", "ping").encode());
            }
            var flood = web.post(node.httpPort(), "127.0.0.1", session + "/xhr_send")
                    .putHeader("Content-Type", "text/plain")
                    .sendBuffer(Buffer.buffer(pings.encode()))
                    .await();
            assertThat(flood.statusCode()).as(flood.bodyAsString()).isEqualTo(204);
            // Its poll answers the close frame: closed, and still kept by SockJS.
            var poll = web.post(node.httpPort(), "127.0.0.1", session + "/xhr")
                    .send()
                    .await();
            assertThat(poll.bodyAsString()).startsWith("c[");
            sendsAreRefusedWithJson(web, session, id, "has closed");
        } finally {
            web.close();
        }
    }

    @Test
    @DisplayName("A jsonp_send to an open session whose body SockJS would refuse (empty, no d= in a form, not JSON"
            + " as text or once URL-decoded) is 400 naming the body, and one of another Content-Type 415 naming it, with"
            + " the JSON error body (SockJS: 500 in plain text); a form's d= and text frames are taken as before")
    void jsonpSendRefusalsAreJson() {
        WebClient web = WebClient.create(client, new WebClientOptions().setKeepAlive(false));
        try {
            String session = "/eventbus/123/" + TestStack.unique("s");
            var open = web.get(node.httpPort(), "127.0.0.1", session + "/jsonp?c=cb")
                    .send()
                    .await();
            assertThat(open.bodyAsString()).startsWith("/**/cb(\"o\")");
            String form = "application/x-www-form-urlencoded";
            String ping = URLEncoder.encode(
                    new JsonArray()
                            .add(new JsonObject().put("type", "ping").encode())
                            .encode(),
                    StandardCharsets.UTF_8);
            record Sent(String type, String body, int status, String field) {}
            for (Sent sent : List.of(
                    new Sent(form, "", 400, "body: "),
                    new Sent(form, "d=", 400, "body: "),
                    new Sent(form, "x=" + ping, 400, "body: "),
                    new Sent(form, "d=not%20json", 400, "body: "),
                    new Sent(form, "d=%5B%22a%22", 400, "body: "),
                    // The form parser refuses it before SockJS (a JSON 500 before).
                    new Sent(form, "d=%zz", 400, "the request body could not be read: malformed form data"),
                    new Sent("text/plain", "", 400, "body: "),
                    new Sent("text/plain", "not json", 400, "body: "),
                    new Sent("application/json", "[]", 415, "Content-Type: "),
                    new Sent(form, "d=" + ping, 200, null),
                    new Sent("text/plain", URLDecoder.decode(ping, StandardCharsets.UTF_8), 200, null))) {
                var r = web.post(node.httpPort(), "127.0.0.1", session + "/jsonp_send")
                        .putHeader("Content-Type", sent.type())
                        .sendBuffer(Buffer.buffer(sent.body()))
                        .await();
                String what = sent.type() + " '" + sent.body() + "' " + r.bodyAsString();
                assertThat(r.statusCode()).as(what).isEqualTo(sent.status());
                if (sent.field() == null) {
                    assertThat(r.bodyAsString()).as(what).isEqualTo("ok");
                } else {
                    assertThat(r.getHeader("Content-Type")).as(what).isEqualTo("application/json");
                    assertThat(r.bodyAsJsonObject().getString("message"))
                            .as(what)
                            .startsWith(sent.field());
                }
            }
        } finally {
            web.close();
        }
    }

    @Test
    @DisplayName("SockJS's JSONP and htmlfile transports without a callback, or with one that is not safe, are 400"
            + " with the JSON error body naming it (Vert.x answered 500 in plain text); with one they open")
    void callbackTransportsNameTheirParameter() {
        WebClient web = WebClient.create(client, new WebClientOptions().setKeepAlive(false));
        try {
            for (String transport : List.of("jsonp", "htmlfile")) {
                for (String query : List.of("", "?c=%3Cscript%3E", "?callback=a%20b")) {
                    var r = web.get(
                                    node.httpPort(),
                                    "127.0.0.1",
                                    "/eventbus/123/" + TestStack.unique("s") + "/" + transport + query)
                            .send()
                            .await();
                    assertThat(r.statusCode())
                            .as(transport + query + " " + r.bodyAsString())
                            .isEqualTo(400);
                    assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
                    assertThat(r.bodyAsJsonObject().getString("message"))
                            .startsWith(query.startsWith("?callback") ? "callback: " : "c: ");
                }
            }
            var opened = web.get(node.httpPort(), "127.0.0.1", "/eventbus/123/" + TestStack.unique("s") + "/jsonp?c=cb")
                    .send()
                    .await();
            assertThat(opened.statusCode()).isEqualTo(200);
            assertThat(opened.bodyAsString()).startsWith("/**/cb(\"o\")");
        } finally {
            web.close();
        }
    }

    @Test
    @DisplayName("A socket is closed once the token it was opened with expires: it kept receiving the tenant's"
            + " events and answering its requests for as long as it pinged")
    void closedWhenItsTokenExpires() {
        String a = TestStack.unique("a");
        String shortLived = tokens.issue(a, false, Duration.ofSeconds(3));
        // Events go on; the first delivered after the expiry closes the socket instead.
        closedOnceExpired(a, shortLived, s -> publish(a));
    }

    /** A socket subscribed to {@code tenant} with {@code token}, {@code poked} until it is closed as expired. */
    private void closedOnceExpired(String tenant, String token, java.util.function.Consumer<BridgeSocket> poked) {
        try (BridgeSocket s = socket()) {
            s.subscribe(tenant, token);
            Await.until("the socket closed after its token expired", 15_000, () -> {
                if (!s.closed.future().isComplete()) {
                    poked.accept(s);
                }
                return s.closed.future().isComplete();
            });
            assertThat(s.closed.future().result()).contains("token expired");
        }
    }

    @Test
    @DisplayName("A socket that only pings after its token expired is closed at its next ping")
    void pingingSocketClosedWhenItsTokenExpires() {
        String a = TestStack.unique("a");
        String shortLived = tokens.issue(a, false, Duration.ofSeconds(3));
        closedOnceExpired(a, shortLived, s -> s.send(new JsonObject().put("type", "ping")));
    }

    @Test
    @DisplayName("No token: the registration is refused and nothing is delivered")
    void noToken() {
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.register(EventAddresses.tenant(a), null);
            await(() -> !s.errors().isEmpty(), "an error frame");
            assertThat(s.errors().get(0).getString("body")).isIn("access_denied", "rejected");
            String c = TestStack.unique("c");
            s.subscribe(c, token(c));
            publish(a);
            s.barrier(c);
            assertThat(s.on(EventAddresses.tenant(a))).isEmpty();
        }
    }

    @Test
    @DisplayName("An expired token and a token signed with another secret are refused")
    void badTokens() {
        String a = TestStack.unique("a");
        String expired = TestTokens.expired(tokens, a);
        String forged = Tokens.of(client, "another-secret-another-secret-another-secret")
                .issue(a, true, Duration.ofMinutes(5));
        for (String token : List.of(expired, forged, "not.a.token")) {
            try (BridgeSocket s = socket()) {
                s.register(EventAddresses.tenant(a), token);
                await(() -> !s.errors().isEmpty(), "refused " + token);
                String c = TestStack.unique("c");
                s.subscribe(c, token(c));
                publish(a);
                s.barrier(c);
                assertThat(s.on(EventAddresses.tenant(a))).isEmpty();
            }
        }
    }

    @Test
    @DisplayName("A tenant receives its own events and never another tenant's")
    void ownEventsOnly() {
        String a = TestStack.unique("a");
        String b = TestStack.unique("b");
        try (BridgeSocket s = socket()) {
            s.subscribe(a, token(a));
            publish(b);
            JsonObject mine = publish(a);
            await(
                    () -> s.on(EventAddresses.tenant(a)).stream()
                            .anyMatch(
                                    f -> f.getJsonObject("body").getLong("seq").equals(mine.getLong("seq"))),
                    "A's event");
            assertThat(s.received.toString()).doesNotContain(b);
        }
    }

    @Test
    @DisplayName("A tenant token cannot register another tenant's, the admins', an internal or a look-alike address")
    void foreignAddressesRefused() {
        String a = TestStack.unique("a");
        String b = TestStack.unique("b");
        List<String> refused = List.of(
                EventAddresses.tenant(b),
                EventAddresses.ALL,
                "trisync.ingest.upload.begin",
                EventAddresses.tenant(a) + ".x",
                "trisync.events.*",
                "trisync.events." + a + "|" + b,
                "x".repeat(300));
        try (BridgeSocket s = socket()) {
            s.subscribe(a, token(a));
            for (String address : refused) {
                s.register(address, token(a));
            }
            await(() -> s.errors().size() >= refused.size(), "every registration refused");
            assertThat(s.errors())
                    .allMatch(e -> List.of("access_denied", "rejected").contains(e.getString("body")));
            publish(b);
            node.vertx().eventBus().publish(EventAddresses.ALL, new JsonObject().put("leak", true));
            node.vertx().eventBus().publish("trisync.ingest.upload.begin", new JsonObject().put("leak", true));
            node.vertx().eventBus().publish(EventAddresses.tenant(a) + ".x", new JsonObject().put("leak", true));
            s.barrier(a);
            assertThat(s.received.toString()).doesNotContain("leak").doesNotContain(b);
        }
    }

    @Test
    @DisplayName("Sending to a non-permitted address is refused; publishing is refused")
    void inboundRefused() {
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.subscribe(a, token(a));
            s.send("trisync.scan.analyze", new JsonObject().put("tenantId", a), "r-1", token(a));
            s.send("trisync.ingest.delete", new JsonObject(), "r-2", token(a));
            s.send(new JsonObject()
                    .put("type", "publish")
                    .put("address", BridgeAddresses.REPLAY)
                    .put("body", new JsonObject())
                    .put("headers", new JsonObject().put("token", token(a))));
            await(() -> s.errors().size() >= 3, "three refusals");
            assertThat(s.on("r-1")).isEmpty();
            assertThat(s.on("r-2")).isEmpty();
        }
    }

    @Test
    @DisplayName("A forged tenant in a request body is ignored: the token's tenant is used")
    void forgedTenantIgnored() {
        String a = TestStack.unique("a");
        String b = TestStack.unique("b");
        publish(a);
        JsonObject secret = publish(b);
        try (BridgeSocket s = socket()) {
            s.send(
                    BridgeAddresses.REPLAY,
                    new JsonObject().put("tenantId", b).put("afterSeq", 0),
                    "r-forged",
                    token(a));
            await(() -> !s.on("r-forged").isEmpty(), "a reply");
            JsonArray got = s.on("r-forged").get(0).getJsonObject("body").getJsonArray("events");
            assertThat(got).isNotEmpty();
            got.forEach(e -> assertThat(((JsonObject) e).getString("tenantId")).isEqualTo(a));
            assertThat(got.encode()).doesNotContain(secret.getString("fileId"));
        }
    }

    @Test
    @DisplayName("Replay: after a disconnect, exactly the 100 missed events arrive in order, then live ones;"
            + " a gap older than the log is answered with reload")
    void replay() {
        String a = TestStack.unique("a");
        String t = token(a);
        long last;
        try (BridgeSocket s = socket()) {
            s.subscribe(a, t);
            List<JsonObject> seen = s.on(EventAddresses.tenant(a));
            last = seen.get(seen.size() - 1).getJsonObject("body").getLong("seq");
        }
        for (int i = 0; i < 100; i++) {
            publish(a);
        }
        try (BridgeSocket s = socket()) {
            s.register(EventAddresses.tenant(a), t);
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("head", true), "r-head", t);
            await(() -> !s.on("r-head").isEmpty(), "the log's head");
            JsonObject head = s.on("r-head").get(0).getJsonObject("body");
            assertThat(head.getLong("head_seq")).as(head.encode()).isEqualTo(last + 100);
            assertThat(head.getJsonArray("events")).isEmpty();
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("head", "yes"), "r-bad-head", t);
            JsonObject refused = Await.value(
                    "the refusal of a head that is not a boolean",
                    10_000,
                    () -> s.errors().stream()
                            .filter(f -> "r-bad-head".equals(f.getString("address")))
                            .findFirst()
                            .orElse(null),
                    Objects::nonNull);
            assertThat(refused.getInteger("failureCode")).as(refused.encode()).isEqualTo(400);
            assertThat(refused.getString("message")).contains("head must be true or false");
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("afterSeq", last), "r-replay", t);
            await(() -> !s.on("r-replay").isEmpty(), "the replay");
            JsonObject body = s.on("r-replay").get(0).getJsonObject("body");
            assertThat(body.getBoolean("reload")).isFalse();
            JsonArray missed = body.getJsonArray("events");
            assertThat(missed).hasSize(100);
            for (int i = 0; i < 100; i++) {
                assertThat(missed.getJsonObject(i).getLong("seq")).isEqualTo(last + 1 + i);
            }
            JsonObject live = publish(a);
            await(
                    () -> s.on(EventAddresses.tenant(a)).stream()
                            .anyMatch(
                                    f -> f.getJsonObject("body").getLong("seq").equals(live.getLong("seq"))),
                    "a live event after the replay");
            assertThat(live.getLong("seq")).isEqualTo(last + 101);
        }

        String old = TestStack.unique("old");
        for (int i = 0; i < 200; i++) {
            publish(old);
        }
        try (BridgeSocket s = socket()) {
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("afterSeq", 10), "r-gap", token(old));
            await(() -> !s.on("r-gap").isEmpty(), "the reload answer");
            JsonObject body = s.on("r-gap").get(0).getJsonObject("body");
            assertThat(body.getBoolean("reload")).isTrue();
            assertThat(body.getLong("oldest_seq")).isGreaterThan(11);
            // After the log's head, even the largest seq: nothing yet, not "no longer in the log".
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("afterSeq", Long.MAX_VALUE), "r-ahead", token(old));
            await(() -> !s.on("r-ahead").isEmpty(), "the answer after the head");
            JsonObject ahead = s.on("r-ahead").get(0).getJsonObject("body");
            assertThat(ahead.getBoolean("reload")).as(ahead.encode()).isFalse();
            assertThat(ahead.getJsonArray("events")).isEmpty();
        }
    }

    @Test
    @DisplayName("Replay refuses an afterSeq (or limit) that is not a whole number of 0 or more, naming it:"
            + " 1.5 was read as 1")
    void replayRefusesAfterSeqThatIsNoWholeNumber() {
        String a = TestStack.unique("a");
        String t = token(a);
        Map<String, JsonObject> bad = Map.of(
                "fraction", new JsonObject().put("afterSeq", 1.5),
                "negative", new JsonObject().put("afterSeq", -1),
                "string", new JsonObject().put("afterSeq", "3"),
                "boolean", new JsonObject().put("afterSeq", true),
                "huge", new JsonObject().put("afterSeq", new BigInteger("99999999999999999999")),
                "missing", new JsonObject(),
                "limit", new JsonObject().put("afterSeq", 0).put("limit", 2.5));
        try (BridgeSocket s = socket()) {
            bad.forEach((name, body) -> s.send(BridgeAddresses.REPLAY, body, "r-" + name, t));
            for (Map.Entry<String, JsonObject> e : bad.entrySet()) {
                String address = "r-" + e.getKey();
                JsonObject error = Await.value(
                        "the refusal of " + e.getValue().encode(),
                        10_000,
                        () -> s.errors().stream()
                                .filter(f -> address.equals(f.getString("address")))
                                .findFirst()
                                .orElse(null),
                        Objects::nonNull);
                assertThat(error.getInteger("failureCode")).as(error.encode()).isEqualTo(400);
                assertThat(error.getString("message"))
                        .as(error.encode())
                        .startsWith(e.getKey().equals("limit") ? "limit " : "afterSeq ");
                assertThat(s.on(address)).as(address).isEmpty();
            }
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("afterSeq", 0).put("limit", 5), "r-good", t);
            await(() -> !s.on("r-good").isEmpty(), "the replay of a whole afterSeq");
        }
    }

    @Test
    @DisplayName("An oversized frame or a flood closes only that socket")
    void limits() {
        String a = TestStack.unique("a");
        try (BridgeSocket bystander = socket();
                BridgeSocket big = socket();
                BridgeSocket flood = socket()) {
            bystander.subscribe(a, token(a));
            big.send(BridgeAddresses.REPLAY, new JsonObject().put("pad", "x".repeat(10_000)), "r", token(a));
            assertThat(big.closed.future().await()).contains("larger than");
            for (int i = 0; i < 200; i++) {
                flood.send(BridgeAddresses.REPLAY, new JsonObject().put("afterSeq", 0), "f" + i, token(a));
            }
            assertThat(flood.closed.future().await()).contains("frames a second");
            JsonObject after = publish(a);
            await(
                    () -> bystander.on(EventAddresses.tenant(a)).stream()
                            .anyMatch(
                                    f -> f.getJsonObject("body").getLong("seq").equals(after.getLong("seq"))),
                    "the bystander still served");
        }
    }

    @Test
    @DisplayName("Frames the bridge's hooks never see (pings, text that is not JSON, frames without a type or of the"
            + " wrong shape) count against BRIDGE_MAX_MESSAGES_PER_SECOND too")
    void everyFrameCountsAgainstTheRate() {
        for (String frame : List.of("{\"type\":\"ping\"}", "not json", "{\"address\":\"a\"}", "{\"type\":5}")) {
            try (BridgeSocket s = socket()) {
                // Each but the ping was answered with an error frame, and the socket stayed open.
                for (int i = 0; i < 200; i++) {
                    s.sendText(frame);
                }
                Await.until(frame + ": the socket closed", 10_000, () -> s.closed
                        .future()
                        .isComplete());
                assertThat(s.closed.future().result()).as(frame).contains("frames a second");
            }
        }
    }

    @Test
    @DisplayName("BRIDGE_MAX_HANDLERS counts addresses: registering one's own again (refused by the bridge) does not"
            + " count, and unregistering an address never registered frees nothing")
    void registrationsCountedByAddress() {
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.subscribe(a, token(a));
            for (int i = 0; i < 20; i++) {
                s.register(EventAddresses.tenant(a), token(a));
            }
            await(() -> s.errors().size() >= 20, "20 refusals of the address registered already");
            assertThat(s.errors())
                    .allSatisfy(e -> assertThat(e.getString("body")).isEqualTo("address_already_registered"));
            s.barrier(a);
            assertThat(s.closed.future().isComplete())
                    .as("one address registered: within the limit")
                    .isFalse();
        }
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        try (BridgeSocket s = socket()) {
            s.subscribe(a, admin);
            for (int i = 1; i < 16; i++) {
                s.register(EventAddresses.tenant(a + "-" + i), admin);
            }
            for (int i = 0; i < 10; i++) {
                s.send(new JsonObject()
                        .put("type", "unregister")
                        .put("address", EventAddresses.tenant(a + "-never-" + i))
                        .put("headers", new JsonObject().put("token", admin)));
            }
            s.register(EventAddresses.tenant(a + "-16"), admin);
            Await.until("the socket closed", 10_000, () -> s.closed.future().isComplete());
            assertThat(s.closed.future().result()).contains("BRIDGE_MAX_HANDLERS");
        }
    }

    @Test
    @DisplayName("A 1 MB frame, over the WebSocket message limit, closes the socket instead of leaving it deaf")
    void hugeFrameCloses() {
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.send(BridgeAddresses.REPLAY, new JsonObject().put("pad", "x".repeat(1 << 20)), "r", token(a));
            assertThat(s.closed.future().await()).isNotNull();
        }
    }

    @Test
    @DisplayName("Frames with fields of the wrong type get an error frame, and the socket keeps working")
    void malformedFramesRefused() {
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.send(new JsonObject()
                    .put("type", "register")
                    .put("address", EventAddresses.tenant(a))
                    .put("headers", new JsonObject().put("token", 5)));
            await(() -> s.errors().size() >= 1, "an error frame, got " + s.received);
            s.send(new JsonObject()
                    .put("type", "register")
                    .put("address", EventAddresses.tenant(a))
                    .put("headers", "abc"));
            await(() -> s.errors().size() >= 2, "a second error frame, got " + s.received);
            s.send(new JsonObject().put("type", "register").put("address", 5));
            await(() -> s.errors().size() >= 3, "an error frame for a numeric address, got " + s.received);
            s.send(new JsonObject().put("type", 7).put("address", EventAddresses.tenant(a)));
            await(() -> s.errors().size() >= 4, "an error frame for a numeric type, got " + s.received);
            assertThat(s.errors().get(3).getString("body")).isEqualTo("invalid_frame");
            s.send(new JsonObject()
                    .put("type", "send")
                    .put("address", BridgeAddresses.REPLAY)
                    .put("replyAddress", 9));
            await(() -> s.errors().size() >= 5, "an error frame for a numeric replyAddress, got " + s.received);
            s.subscribe(a, token(a));
        }
    }

    @Test
    @DisplayName("The registration past BRIDGE_MAX_HANDLERS closes the socket; replies to sends do not count")
    void handlerLimitCloses() {
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        String a = TestStack.unique("a");
        try (BridgeSocket s = socket()) {
            s.subscribe(a, admin);
            for (int i = 0; i < 10; i++) {
                s.send(
                        BridgeAddresses.REPLAY,
                        new JsonObject().put("tenantId", a).put("afterSeq", 0),
                        "r" + i,
                        admin);
            }
            await(() -> s.on("r9").size() == 1, "the replies to 10 sends");
            // 1 + 10 + 16 frames: under the test's 40 frames a second.
            for (int i = 1; i < 16; i++) {
                s.register(EventAddresses.tenant(a + "-" + i), admin);
            }
            s.barrier(a);
            assertThat(s.closed.future().isComplete())
                    .as("16 registrations are within the limit")
                    .isFalse();
            s.register(EventAddresses.tenant(a + "-16"), admin);
            assertThat(s.closed.future().await()).contains("BRIDGE_MAX_HANDLERS");
        }
    }
}
