package io.trisync.browser;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.events.EventAddresses;
import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.store.Event;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official Vert.x event-bus client in a real headless Chromium, through trisync's browser module
 * ({@code /events.html}): a page subscribed as tenant A receives A's upload events, never B's; after
 * the network drops and comes back it reconnects and replays what it missed, each event once; a drop
 * before it has received any event replays from where the log stood when it opened, not from the start.
 */
@Timeout(240)
class BrowserEventsIT {

    static final String SECRET = "browser-test-secret-0123456789abcdef-0";

    @Test
    @DisplayName(
            "A page subscribed as tenant A gets A's upload events and never B's; it replays what it missed offline,"
                    + " and never what came before it opened")
    void tenantPageReceivesOwnEvents() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("AUTH_ENABLED", "true", "AUTH_JWT_SECRET", SECRET)), false)
                .await();
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        try (Chromium chromium = new Chromium()) {
            Tokens tokens = Tokens.of(vertx, SECRET);
            String a = TestStack.unique("a");
            String b = TestStack.unique("b");
            String tokenA = tokens.issue(a, false, Duration.ofMinutes(10));
            String tokenB = tokens.issue(b, false, Duration.ofMinutes(10));
            BrowserContext context = chromium.browser().newContext();
            Page page = context.newPage();
            List<String> consoleErrors = new ArrayList<>();
            page.onConsoleMessage(m -> {
                if ("error".equals(m.type())) {
                    consoleErrors.add(m.text());
                }
            });
            String base = "http://127.0.0.1:" + node.httpPort();
            String beforeOpen = upload(web, node, tokenA, a, "before-open.txt");
            page.navigate(base + "/events.html#token=" + tokenA + "&tenant=" + a);
            page.waitForFunction("() => window.trisyncState === 'open' && window.trisyncEvents.headSeq !== null");

            // Offline before any event arrived: back online, the page gets what it missed and nothing older.
            assertThat(consoleErrors)
                    .as("no console errors before going offline")
                    .isEmpty();
            dropSocket(context, page);
            String missedFirst = upload(web, node, tokenA, a, "missed-first.txt");
            reconnect(context, page, List.of(missedFirst));
            String early = page.evaluate("() => JSON.stringify(window.trisyncReceived)")
                    .toString();
            assertThat(early).contains(missedFirst).doesNotContain(beforeOpen);
            assertThat(page.evaluate("() => window.trisyncReload === undefined"))
                    .isEqualTo(true);
            assertThat(consoleErrors)
                    .as("offline, only the browser's own failed reconnect attempts")
                    .allMatch(m -> m.contains("ERR_INTERNET_DISCONNECTED"));
            consoleErrors.clear();

            String fileA = upload(web, node, tokenA, a, "a.txt");
            String fileB = upload(web, node, tokenB, b, "b.txt");
            page.waitForFunction(
                    "id => window.trisyncReceived.some(e => e.type === 'file.uploaded' && e.fileId === id)", fileA);
            // A stray event of B's upload would come before that of an upload to A made after it: wait for that one.
            String afterB = upload(web, node, tokenA, a, "after-b.txt");
            page.waitForFunction(
                    "id => window.trisyncReceived.some(e => e.type === 'file.uploaded' && e.fileId === id)", afterB);
            JsonArray received = new JsonArray(page.evaluate("() => JSON.stringify(window.trisyncReceived)")
                    .toString());
            assertThat(received).isNotEmpty();
            received.forEach(
                    e -> assertThat(((JsonObject) e).getString("tenantId")).isEqualTo(a));
            assertThat(received.encode()).doesNotContain(fileB).doesNotContain(b);
            assertThat(page.textContent("#events")).contains(fileA);

            // Offline: the socket drops; two uploads happen; back online, the page reconnects and replays them.
            int before = received.size();
            assertThat(consoleErrors).as("no console errors while online").isEmpty();
            dropSocket(context, page);
            String missed1 = upload(web, node, tokenA, a, "c.txt");
            String missed2 = upload(web, node, tokenA, a, "d.txt");
            reconnect(context, page, List.of(missed1, missed2));
            JsonArray all = new JsonArray(page.evaluate("() => JSON.stringify(window.trisyncReceived)")
                    .toString());
            List<Long> seqs =
                    all.stream().map(e -> ((JsonObject) e).getLong("seq")).toList();
            assertThat(seqs).as("each event once, in order").isSorted().doesNotHaveDuplicates();
            assertThat(all.size()).isGreaterThan(before);
            assertThat(consoleErrors)
                    .as("offline, only the browser's own failed reconnect attempts")
                    .allMatch(m -> m.contains("ERR_INTERNET_DISCONNECTED"));
            context.close();
        } finally {
            web.close();
            vertx.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A tenant's events logged out of seq order (by two publishers, as by two nodes) reach the page in seq"
            + " order, each once: the later one is held until the gap fills; a gap that never fills (its numbers"
            + " given up) is passed after the wait")
    void crossingEventsArriveInOrder() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("AUTH_ENABLED", "true", "AUTH_JWT_SECRET", SECRET)), false)
                .await();
        Vertx vertx = Vertx.vertx();
        try (Chromium chromium = new Chromium()) {
            String a = TestStack.unique("a");
            String token = Tokens.of(vertx, SECRET).issue(a, false, Duration.ofMinutes(10));
            BrowserContext context = chromium.browser().newContext();
            Page page = context.newPage();
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/events.html#token=" + token + "&tenant=" + a);
            page.waitForFunction("() => window.trisyncState === 'open' && window.trisyncEvents.headSeq !== null");
            EventPublisher first =
                    new EventPublisher(node.vertx().eventBus(), node.stores().events());
            EventPublisher second =
                    new EventPublisher(node.vertx().eventBus(), node.stores().events());

            // An event the page receives first (a gap before a tenant's first logged event would read as a
            // log trimmed past the page: it would be told to reload).
            long opening = onContext(node, () -> second.publishAll(a, List.of(draft("opening"))))
                    .get(0)
                    .seq();
            page.waitForFunction("seq => window.trisyncReceived.some(e => e.seq === seq)", (int) opening);

            // The first publisher's numbers are taken, the second's later ones logged first.
            EventPublisher.Reservation early = onContext(node, () -> first.reserve(a, List.of(draft("early"))));
            long late = onContext(node, () -> second.publishAll(a, List.of(draft("late"))))
                    .get(0)
                    .seq();
            assertThat(late).isEqualTo(early.events().get(0).seq() + 1);
            page.waitForFunction(
                    "seq => window.trisyncReceived.some(e => e.seq === seq) || window.trisyncEvents.holding",
                    (int) late);
            assertThat(received(page)).as("the later event is held at the gap").doesNotContain(late);
            onContext(node, early::log);
            page.waitForFunction("seq => window.trisyncReceived.some(e => e.seq === seq)", (int) late);
            assertThat(received(page)).as("each once, in seq order").containsExactly(opening, late - 1, late);

            // Numbers given up (the write they were taken for failed): the later event comes after the wait.
            EventPublisher.Reservation failed = onContext(node, () -> first.reserve(a, List.of(draft("failed"))));
            long sent = System.nanoTime();
            long after = onContext(node, () -> second.publishAll(a, List.of(draft("after"))))
                    .get(0)
                    .seq();
            page.waitForFunction(
                    "seq => window.trisyncReceived.some(e => e.seq === seq) || window.trisyncEvents.holding",
                    (int) after);
            assertThat(received(page)).as("held at the gap").doesNotContain(after);
            onContext(node, () -> {
                failed.skip();
                return Future.succeededFuture();
            });
            page.waitForFunction(
                    "seq => window.trisyncReceived.some(e => e.seq === seq)",
                    (int) after,
                    new Page.WaitForFunctionOptions().setTimeout(30_000));
            assertThat(Duration.ofNanos(System.nanoTime() - sent))
                    .as("passed only after the wait (6 s from when the page first saw it, after it was sent)")
                    .isGreaterThan(Duration.ofSeconds(5));
            assertThat(received(page)).containsExactly(opening, late - 1, late, after);

            // Should an event of the seq passed over come after all (a write slower than the wait), it
            // is delivered then, late and once.
            JsonObject straggler = new Event(
                            after - 1,
                            EventTypes.FILE_UPLOADED,
                            a,
                            "straggler",
                            null,
                            Instant.now().toString(),
                            null)
                    .toJson();
            node.vertx().eventBus().publish(EventAddresses.tenant(a), straggler);
            node.vertx().eventBus().publish(EventAddresses.tenant(a), straggler);
            page.waitForFunction("seq => window.trisyncReceived.some(e => e.seq === seq)", (int) (after - 1));
            long marker = onContext(node, () -> second.publishAll(a, List.of(draft("marker"))))
                    .get(0)
                    .seq();
            page.waitForFunction("seq => window.trisyncReceived.some(e => e.seq === seq)", (int) marker);
            assertThat(received(page)).containsExactly(opening, late - 1, late, after, after - 1, marker);
            context.close();
        } finally {
            vertx.close().await();
            node.stop().await();
        }
    }

    private static EventPublisher.Draft draft(String name) {
        return new EventPublisher.Draft(EventTypes.FILE_UPLOADED, name, null, new JsonObject());
    }

    /** The seqs the page delivered, in the order it delivered them. */
    private static List<Long> received(Page page) {
        return new JsonArray(page.evaluate("() => JSON.stringify(window.trisyncReceived)")
                        .toString())
                .stream().map(e -> ((JsonObject) e).getLong("seq")).toList();
    }

    /** Runs {@code work} on a context of the node's Vert.x (as its verticles publish) and waits for it. */
    private static <T> T onContext(Node node, Supplier<Future<T>> work) {
        Promise<T> done = Promise.promise();
        node.vertx().getOrCreateContext().runOnContext(v -> work.get().onComplete(done));
        return done.future().await();
    }

    private static void dropSocket(BrowserContext context, Page page) {
        context.setOffline(true);
        page.evaluate("() => window.trisyncEvents.eb.sockJSConn.close()");
        page.waitForFunction("() => window.trisyncState === 'reconnecting'");
    }

    private static void reconnect(BrowserContext context, Page page, List<String> missed) {
        context.setOffline(false);
        page.waitForFunction(
                "() => window.trisyncState === 'open'", null, new Page.WaitForFunctionOptions().setTimeout(30_000));
        page.waitForFunction(
                "ids => ids.every(id => window.trisyncReceived.some(e => e.fileId === id && e.type === 'file.uploaded'))",
                missed,
                new Page.WaitForFunctionOptions().setTimeout(30_000));
    }

    private static String upload(WebClient web, Node node, String token, String tenant, String name) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .textFileUpload("file", name, Buffer.buffer(utf8("notes of " + name + " for " + tenant)), "text/plain");
        var r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .bearerTokenAuthentication(token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }
}
