package io.trisync.browser;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the admin UI tests share, started once per JVM by {@link #start()} and stopped when it exits: a
 * node with authentication on, a client of it, an admin token and headless Chromium. Each test seeds
 * its own tenants.
 */
final class AdminUi {

    static final String SECRET = "admin-ui-test-secret-0123456789abcdef";
    static Node node;
    static Vertx vertx;
    static WebClient web;
    static Tokens tokens;
    static Chromium chromium;
    static String admin;

    /** What the page's prompt dialogs are answered (confirmations are accepted). */
    static final AtomicReference<String> PROMPT_ANSWER = new AtomicReference<>("");

    private AdminUi() {}

    /** Starts the node, the client and Chromium on first use in this JVM. */
    static synchronized void start() {
        if (node != null) {
            return;
        }
        node = Node.start(
                        // A database of its own: the node lives as long as the JVM, and its monitor (1 s
                        // heartbeats), recovery and index worker would otherwise act on other classes'
                        // operations and jobs in the shared one.
                        TestStack.nodeConfig(Map.of(
                                "MONGO_DB", TestStack.unique("admin-ui"),
                                "AUTH_ENABLED", "true",
                                "AUTH_JWT_SECRET", SECRET,
                                "SYNC_PARTITIONS", "8",
                                "SYNC_HEARTBEAT_INTERVAL_SECONDS", "1")),
                        false)
                .await();
        vertx = Vertx.vertx();
        web = WebClient.create(vertx);
        tokens = Tokens.of(vertx, SECRET);
        admin = tokens.issue(null, true, Duration.ofMinutes(30));
        chromium = new Chromium();
        Runtime.getRuntime().addShutdownHook(new Thread(AdminUi::stop));
    }

    private static void stop() {
        try {
            chromium.close();
            web.close();
            vertx.close().await(10, TimeUnit.SECONDS);
            node.stop().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // The JVM is exiting: what did not stop in time ends with it.
        }
    }

    /** A page signed in with {@code token}, console errors collected. */
    static Page signedIn(BrowserContext context, String token, List<String> errors) {
        Page page = context.newPage();
        page.onConsoleMessage(m -> {
            if ("error".equals(m.type())) {
                errors.add(m.text() + " at " + m.location());
            }
        });
        page.onDialog(d -> {
            if ("prompt".equals(d.type())) {
                d.accept(PROMPT_ANSWER.get());
            } else {
                d.accept();
            }
        });
        page.navigate("http://127.0.0.1:" + node.httpPort() + "/");
        page.fill("#token", token);
        page.click("#signin-form button[type=submit]");
        page.waitForFunction("() => window.trisyncAdmin && document.getElementById('live').textContent === 'live'");
        return page;
    }

    static String upload(String token, String tenant, String name, String text) {
        return upload(token, tenant, name, text, "text/plain");
    }

    static String upload(String token, String tenant, String name, String text, String contentType) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .textFileUpload("file", name, Buffer.buffer(utf8(text)), contentType);
        var r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .bearerTokenAuthentication(token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    static JsonObject post(String path, JsonObject body) {
        var r = web.post(node.httpPort(), "127.0.0.1", path)
                .bearerTokenAuthentication(admin)
                .sendJsonObject(body)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isLessThan(300);
        return r.bodyAsJsonObject();
    }
}
