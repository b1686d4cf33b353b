package io.trisync.browser;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The first minutes on the embedded default: the node's logged sign-in address signs the admin UI in
 * at once (and the token leaves the address bar); with authentication off the UI shows the overview
 * without asking for a token; a tenant page lists that tenant's events only; a scan's progress counts
 * files, partitions apart; an admin acts on a file by its id alone. Screenshots under {@code target/}.
 */
@Timeout(300)
class FirstMinutesIT {

    static Chromium chromium;
    static Vertx vertx;
    static WebClient web;

    @BeforeAll
    static void start() {
        chromium = new Chromium();
        vertx = Vertx.vertx();
        web = WebClient.create(vertx);
    }

    @AfterAll
    static void stop() {
        chromium.close();
        web.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("The logged sign-in address signs in as admin and leaves the address bar; a tenant page shows its"
            + " events only; scan progress counts files; an admin reads and deletes a file by its id alone")
    void signInAddress() throws Exception {
        // Authentication on with no secret configured: the embedded default, which generates one.
        Node node = Node.start(TestStack.config(Map.of("AUTH_ENABLED", "true", "SYNC_PARTITIONS", "8")), false)
                .await();
        try (BrowserContext context = chromium.browser().newContext()) {
            String link = node.signInLink();
            assertThat(link).startsWith("http://localhost:" + node.httpPort() + "/#token=");
            String token = link.substring(link.indexOf("#token=") + "#token=".length());
            String a = TestStack.unique("first-a");
            String b = TestStack.unique("first-b");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ids.add(upload(node, token, a, "a" + i + ".txt"));
            }
            upload(node, token, b, "b0.txt");

            Page page = context.newPage();
            List<String> errors = new ArrayList<>();
            page.onConsoleMessage(m -> {
                if ("error".equals(m.type())) {
                    errors.add(m.text());
                }
            });
            page.navigate(link.replace("localhost", "127.0.0.1"));
            page.waitForFunction("() => document.getElementById('live').textContent === 'live'");
            assertThat(page.url()).doesNotContain("token");
            assertThat(page.textContent("#who")).isEqualTo("admin");
            assertThat(page.isVisible("#overview")).isTrue();
            assertThat(page.isVisible("#signin")).isFalse();
            shoot(page, "first-signed-in");

            // A tenant page lists that tenant's events only.
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + a);
            page.waitForFunction(
                    "t => { const l = [...document.querySelectorAll('#events li')];"
                            + " return l.length >= 20 && l.every(e => e.textContent.includes(' ' + t + ' #')); }",
                    a);
            List<String> events = page.locator("#events li").allTextContents();
            assertThat(events).allMatch(e -> e.contains(" " + a + " #"));
            shoot(page, "first-tenant-events");

            // A scan's progress counts files (20) and partitions (8) apart.
            JsonObject report = send(node, token, "POST", "/api/sync/analyze", new JsonObject().put("user_id", a))
                    .bodyAsJsonObject();
            assertThat(report.getJsonObject("summary").getLong("total_files")).isEqualTo(20);
            JsonObject latest = send(node, token, "GET", "/api/v1/sync/status?tenant_id=" + a, null)
                    .bodyAsJsonObject()
                    .getJsonObject("latest_sync");
            JsonObject progress = latest.getJsonObject("progress");
            assertThat(progress.getLong("current_file")).isEqualTo(20);
            assertThat(progress.getLong("total_files")).isEqualTo(20);
            assertThat(progress.getInteger("current_partition")).isEqualTo(8);
            assertThat(progress.getInteger("total_partitions")).isEqualTo(8);

            // An admin reads and deletes a file by its id alone; another tenant's token still cannot.
            String other = Tokens.of(
                            vertx,
                            Files.readString(node.config().dataDir().resolve(Tokens.SECRET_FILE))
                                    .strip())
                    .issue(b, false, Duration.ofMinutes(5));
            assertThat(send(node, other, "GET", "/api/files/" + ids.get(0), null)
                            .statusCode())
                    .isEqualTo(404);
            var read = send(node, token, "GET", "/api/files/" + ids.get(0), null);
            assertThat(read.statusCode()).as(read.bodyAsString()).isEqualTo(200);
            assertThat(read.bodyAsJsonObject().getString("user_id")).isEqualTo(a);
            var deleted = send(node, token, "DELETE", "/api/files/" + ids.get(0), null);
            assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);
            assertThat(errors).isEmpty();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("With authentication off the UI shows the overview without asking for a token, and says so")
    void authenticationOff() {
        Node node = Node.start(TestStack.config(Map.of("AUTH_ENABLED", "false")), false)
                .await();
        try (BrowserContext context = chromium.browser().newContext()) {
            assertThat(node.signInLink()).isNull();
            Page page = context.newPage();
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/");
            page.waitForFunction("() => document.getElementById('live').textContent === 'live'");
            page.waitForSelector("#overview:not([hidden])");
            assertThat(page.isVisible("#signin")).isFalse();
            assertThat(page.textContent("#who")).contains("authentication is off");
            shoot(page, "first-auth-off");
        } finally {
            node.stop().await();
        }
    }

    private static void shoot(Page page, String name) throws RuntimeException {
        for (int width : new int[] {1280, 400}) {
            page.setViewportSize(width, 900);
            page.screenshot(new Page.ScreenshotOptions()
                    .setPath(Path.of("target", "screenshots", name + "-" + width + ".png"))
                    .setFullPage(true));
        }
        page.setViewportSize(1280, 900);
    }

    private static String upload(Node node, String token, String tenant, String name) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .textFileUpload("file", name, Buffer.buffer(Fixtures.utf8(Fixtures.prose(20) + name)), "text/plain");
        var r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .bearerTokenAuthentication(token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static HttpResponse<Buffer> send(Node node, String token, String method, String path, JsonObject body) {
        var request = web.request(HttpMethod.valueOf(method), node.httpPort(), "127.0.0.1", path)
                .bearerTokenAuthentication(token);
        return (body == null ? request.send() : request.sendJsonObject(body)).await();
    }
}
