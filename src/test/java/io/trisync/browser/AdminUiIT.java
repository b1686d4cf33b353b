package io.trisync.browser;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.bus.Membership;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TimeoutPolicy;
import io.trisync.ops.TrackedOperation;
import io.trisync.store.SyncOperation;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin UI in headless Debian Chromium against a node with seeded tenants. */
@Timeout(300)
class AdminUiIT {

    static final String SECRET = "admin-ui-test-secret-0123456789abcdef";
    static Node node;
    static Vertx vertx;
    static WebClient web;
    static Tokens tokens;
    static Chromium chromium;
    static String admin;

    /** What the page's prompt dialogs are answered (confirmations are accepted). */
    static final java.util.concurrent.atomic.AtomicReference<String> PROMPT_ANSWER =
            new java.util.concurrent.atomic.AtomicReference<>("");

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
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
    }

    @AfterAll
    static void stop() {
        chromium.close();
        web.close();
        vertx.close().await();
        node.stop().await();
    }

    /** A page signed in with {@code token}, console errors collected. */
    private static Page signedIn(BrowserContext context, String token, List<String> errors) {
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

    private static String upload(String token, String tenant, String name, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .textFileUpload("file", name, Buffer.buffer(utf8(text)), "text/plain");
        var r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .bearerTokenAuthentication(token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static JsonObject post(String path, JsonObject body) {
        var r = web.post(node.httpPort(), "127.0.0.1", path)
                .bearerTokenAuthentication(admin)
                .sendJsonObject(body)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isLessThan(300);
        return r.bodyAsJsonObject();
    }

    @Test
    @DisplayName("A damaged file's page shows the store that lacks it, its issue and its timeline; repairing just"
            + " that file from its page clears the issue; screenshots at 1280 and 400 px")
    void filePage() {
        String t = TestStack.unique("ui-file");
        String damaged = upload(admin, t, "story.txt", Fixtures.prose(120) + " story");
        String other = upload(admin, t, "other.txt", Fixtures.prose(90) + " other");
        node.stores().vectors().deleteFile(t, damaged).await();
        node.stores().vectors().deleteFile(t, other).await();
        post("/api/sync/analyze", new JsonObject().put("user_id", t));
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t + "/file/" + damaged);
            page.waitForSelector("#file:not([hidden])");
            page.waitForFunction("() => document.querySelectorAll('#file-timeline tr').length > 2");
            assertThat(page.textContent("#file-name")).isEqualTo("story.txt");
            String stores = page.textContent("#file-stores");
            assertThat(page.locator("#file-stores tr:has-text('Qdrant') .no").count())
                    .isEqualTo(1);
            assertThat(page.locator("#file-stores tr:has-text('S3') .yes").count())
                    .isEqualTo(1);
            assertThat(stores).contains("0 of 1 points");
            assertThat(page.textContent("#file-issues")).contains("MISSING_VECTORS");
            String timeline = page.textContent("#file-timeline");
            assertThat(timeline).contains("file.uploaded", "sync.issue_detected", "upload done");
            assertThat(timeline.indexOf("sync.issue_detected")).isLessThan(timeline.indexOf("file.uploaded"));
            for (int width : new int[] {1280, 400}) {
                page.setViewportSize(width, 900);
                page.screenshot(new Page.ScreenshotOptions()
                        .setPath(java.nio.file.Path.of("target", "screenshots", "file-page-" + width + ".png"))
                        .setFullPage(true));
            }
            page.setViewportSize(1280, 900);

            page.click("#file-repair");
            page.waitForSelector("#plan[open]");
            assertThat(page.textContent("#plan-actions"))
                    .contains("REEMBED")
                    .contains("story.txt")
                    .doesNotContain("other.txt");
            page.click("#apply");
            page.waitForFunction(
                    "() => document.querySelectorAll('#file-issues tbody tr').length === 0",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(60_000));
            assertThat(node.stores().vectors().count(t, damaged).await()).isPositive();
            assertThat(node.stores().vectors().count(t, other).await())
                    .as("only this file repaired")
                    .isZero();
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("A file's page lists its content versions, and a previous version downloads with its bytes")
    void fileVersions() throws Exception {
        String t = TestStack.unique("ui-versions");
        String first = Fixtures.prose(60) + " first";
        String id = upload(admin, t, "versioned.txt", first);
        var put = web.put(node.httpPort(), "127.0.0.1", "/api/files/" + id + "/content?user_id=" + t)
                .bearerTokenAuthentication(admin)
                .sendMultipartForm(MultipartForm.create()
                        .textFileUpload(
                                "file",
                                "versioned.txt",
                                Buffer.buffer(utf8(Fixtures.prose(40) + " second")),
                                "text/plain"))
                .await();
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
        try (BrowserContext context =
                chromium.browser().newContext(new Browser.NewContextOptions().setAcceptDownloads(true))) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t + "/file/" + id);
            page.waitForFunction("() => document.querySelectorAll('#file-versions tbody tr').length === 2");
            String versions = page.textContent("#file-versions");
            assertThat(versions).contains("(current)");
            var download = page.waitForDownload(() -> page.locator("#file-versions tbody tr")
                    .nth(1)
                    .locator("button")
                    .click());
            assertThat(java.nio.file.Files.readString(download.path())).isEqualTo(first);
            assertThat(download.suggestedFilename()).isEqualTo("v1-versioned.txt");
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("The trend charts gain a point per scan, the tenant page's filters survive a reload, and a dropped"
            + " live connection shows the stale-data hint; screenshots at 1280 and 400 px")
    void trendsFiltersAndStaleHint() {
        String t = TestStack.unique("ui-trend");
        String damaged = upload(admin, t, "a.txt", Fixtures.prose(60) + " alpha");
        upload(admin, t, "b.txt", Fixtures.prose(60) + " beta");
        node.stores().vectors().deleteFile(t, damaged).await();
        post("/api/sync/analyze", new JsonObject().put("user_id", t));
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/");
            page.waitForSelector("#overview:not([hidden])");
            page.waitForFunction("() => Number(document.getElementById('trend-overview').dataset.points) >= 1");
            // Other tests' scans add samples to the all-tenant trend too (and it shows the latest 100):
            // what must happen is a newer last point, made after this scan was asked for.
            Instant asked = Instant.now();
            post("/api/sync/analyze", new JsonObject().put("user_id", t));
            page.waitForFunction(
                    "t => Date.parse(document.getElementById('trend-overview').dataset.last) >= t",
                    (double) asked.toEpochMilli());
            assertThat(page.evaluate("() => Chart.getChart('trend-overview').data.datasets[0].data.length"))
                    .isEqualTo(Integer.parseInt(page.getAttribute("#trend-overview", "data-points")));

            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t);
            page.waitForFunction("() => Number(document.getElementById('trend-tenant').dataset.points) === 2");
            page.click("#analyze");
            page.waitForFunction("() => Number(document.getElementById('trend-tenant').dataset.points) === 3");
            // The last sample: one of two files out of sync, one MISSING_VECTORS issue.
            assertThat(page.evaluate("() => Chart.getChart('trend-tenant').data.datasets[0].data.at(-1)"))
                    .isEqualTo(50);
            assertThat(page.evaluate("() => Chart.getChart('trend-tenant').data.datasets[1].data.at(-1)"))
                    .isEqualTo(1);

            page.waitForSelector(
                    "#issue-filter option[value='MISSING_VECTORS']",
                    new Page.WaitForSelectorOptions().setState(WaitForSelectorState.ATTACHED));
            page.waitForSelector("#files tr[data-file='" + damaged + "']");
            String status = page.textContent("#files tr[data-file='" + damaged + "'] td:nth-child(2)");
            assertThat(status).isNotEqualTo("synced");
            page.selectOption("#issue-filter", "MISSING_VECTORS");
            page.selectOption("#status-filter", status);
            assertThat(page.url()).contains("issue=MISSING_VECTORS").contains("status=" + status);
            page.reload();
            page.waitForSelector("#tenant:not([hidden])");
            page.waitForFunction("() => document.querySelectorAll('#issues tbody tr').length === 1");
            assertThat(page.inputValue("#issue-filter")).isEqualTo("MISSING_VECTORS");
            assertThat(page.inputValue("#status-filter")).isEqualTo(status);
            page.waitForSelector("#files tr[data-file='" + damaged + "']");
            assertThat(page.locator("#files tbody tr").count())
                    .as("only the damaged file listed")
                    .isEqualTo(1);

            for (String view : new String[] {"overview", "tenant"}) {
                page.navigate(
                        "http://127.0.0.1:" + node.httpPort() + (view.equals("overview") ? "/#/" : "/#/tenant/" + t));
                page.waitForSelector("#" + view + ":not([hidden])");
                for (int width : new int[] {1280, 400}) {
                    page.setViewportSize(width, 900);
                    page.screenshot(new Page.ScreenshotOptions()
                            .setPath(java.nio.file.Path.of("target", "screenshots", view + "-" + width + ".png"))
                            .setFullPage(true));
                }
            }
            page.setViewportSize(1280, 900);

            // A request that fails (the node answers 503 for a moment): a readable message and a Retry that works.
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/");
            page.waitForSelector("#overview:not([hidden])");
            page.route(
                    "**/api/sync/tenants",
                    route -> route.fulfill(
                            new com.microsoft.playwright.Route.FulfillOptions()
                                    .setStatus(503)
                                    .setContentType("application/json")
                                    .setBody(
                                            "{\"error\":\"unavailable\",\"message\":\"mongodb is unavailable; retry in 2s\"}")));
            page.reload();
            page.waitForSelector("#message:not([hidden]) #retry");
            assertThat(page.textContent("#message")).contains("mongodb is unavailable");
            page.unroute("**/api/sync/tenants");
            page.click("#retry");
            page.waitForSelector("#message", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.HIDDEN));
            page.waitForSelector("#tenants tr[data-tenant='" + t + "']");
            // Chromium logs the refused request itself; nothing else may have gone wrong.
            errors.removeIf(e -> e.contains("status of 503") && e.contains("/api/sync/tenants"));

            page.waitForFunction("() => document.getElementById('live').textContent === 'live'");
            assertThat(page.isHidden("#stale")).isTrue();
            // The connection drops (as a proxy or a node restart would drop it): the hint shows until it is back.
            page.evaluate("() => window.trisyncAdmin.live.eb.sockJSConn.close()");
            page.waitForSelector("#stale:not([hidden])");
            assertThat(page.textContent("#stale")).contains("out of date");
            page.waitForFunction(
                    "() => document.getElementById('live').textContent === 'live'",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(30_000));
            assertThat(page.isHidden("#stale")).isTrue();
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("A scan of a 200-file tenant, watched on its page: the progress counts files up to 200 of 200")
    void scanProgressCountsFiles() {
        String t = TestStack.unique("ui-200");
        for (int i = 0; i < 200; i++) {
            upload(admin, t, "f" + i + ".txt", "file number " + i + " of the progress test");
        }
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t);
            page.waitForSelector("#tenant:not([hidden])");
            page.waitForFunction("() => document.querySelectorAll('#files tbody tr').length > 0");
            // Every text the progress line shows, as it shows it.
            page.evaluate("() => { window.seenProgress = []; new MutationObserver(() =>"
                    + " window.seenProgress.push(document.getElementById('op-files').textContent))"
                    + ".observe(document.getElementById('op-files'), {childList: true, characterData: true,"
                    + " subtree: true}); }");
            page.click("#analyze");
            page.waitForFunction(
                    "() => window.seenProgress.some(s => s.startsWith('200 of 200 files'))",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(60_000));
            @SuppressWarnings("unchecked")
            List<String> seen = (List<String>) page.evaluate("() => window.seenProgress");
            for (String line : seen) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+) of (\\d+) files")
                        .matcher(line);
                assertThat(m.find()).as(line).isTrue();
                assertThat(Integer.parseInt(m.group(1))).as(line).isBetween(0, 200);
                assertThat(Integer.parseInt(m.group(2)))
                        .as("files, not partitions: " + line)
                        .isEqualTo(200);
            }
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("Erase tenant… on the tenant page, confirmed by typing the name, erases it and says what went")
    void eraseFromTenantPage() {
        String t = TestStack.unique("ui-erase");
        String a = upload(admin, t, "a.txt", Fixtures.prose(40) + " a");
        upload(admin, t, "b.txt", Fixtures.prose(40) + " b");
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t);
            page.waitForSelector("#tenant:not([hidden])");
            page.waitForFunction("() => document.querySelectorAll('#files tbody tr').length === 2");
            PROMPT_ANSWER.set("not-" + t);
            page.click("#erase");
            page.waitForSelector("#erase-result:has-text('Not erased')");
            assertThat(node.stores().metadata().get(a).await()).isNotNull();
            PROMPT_ANSWER.set(t);
            page.click("#erase");
            page.waitForSelector(
                    "#erase-result:has-text('Erased " + t + "')", new Page.WaitForSelectorOptions().setTimeout(60_000));
            assertThat(page.textContent("#erase-result")).contains("2 blobs").contains("nothing left in any store");
            assertThat(node.stores()
                            .metadata()
                            .count(io.trisync.store.MetadataStore.FileQuery.tenant(t))
                            .await())
                    .isZero();
            assertThat(node.stores().vectors().count(t, a).await()).isZero();
            assertThat(errors).isEmpty();
        } finally {
            PROMPT_ANSWER.set("");
        }
    }

    @Test
    @DisplayName("Overview counts match the API; a damaged file's issue appears on Analyze, the Fix preview lists"
            + " the action and changes nothing, applying it clears the issue live; an upload shows up live")
    void overviewAnalyzeFix() {
        String a = TestStack.unique("ui-a");
        String b = TestStack.unique("ui-b");
        String damaged = upload(admin, a, "a1.txt", Fixtures.prose(200));
        upload(admin, a, "a2.txt", Fixtures.prose(150) + " two");
        upload(admin, b, "b1.txt", Fixtures.prose(120) + " bee");
        post("/api/sync/analyze", new JsonObject().put("user_id", a));
        post("/api/sync/analyze", new JsonObject().put("user_id", b));
        node.stores().vectors().deleteFile(b, "nothing").await();

        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            Locator rowA = page.locator("#tenants tr[data-tenant='" + a + "']");
            rowA.waitFor();
            JsonObject api = web.get(node.httpPort(), "127.0.0.1", "/api/sync/tenants")
                    .bearerTokenAuthentication(admin)
                    .send()
                    .await()
                    .bodyAsJsonObject();
            JsonObject summaryA = api.getJsonArray("tenants").stream()
                    .map(t -> (JsonObject) t)
                    .filter(t -> t.getString("user_id").equals(a))
                    .findFirst()
                    .orElseThrow()
                    .getJsonObject("summary");
            assertThat(rowA.locator("td").nth(2).textContent()).isEqualTo(String.valueOf(summaryA.getLong("synced")));
            assertThat(summaryA.getLong("synced")).isEqualTo(2);
            assertThat(rowA.locator("td span.synced").getAttribute("class")).isEqualTo("synced");
            assertThat(page.locator("#tenants tr[data-tenant='" + b + "'] td")
                            .nth(2)
                            .textContent())
                    .isEqualTo("1");

            // Damage behind trisync's back, then Analyze from the drill-down.
            node.stores().vectors().deleteFile(a, damaged).await();
            rowA.locator("a").click();
            page.waitForSelector("#tenant:not([hidden])");
            page.waitForSelector("#files tr[data-file='" + damaged + "']");
            page.click("#analyze");
            Locator issue = page.locator("#issues tr[data-file='" + damaged + "'][data-type='MISSING_VECTORS']");
            issue.waitFor();
            assertThat(issue.textContent()).contains("Re-extract and re-embed");

            page.click("#fix");
            page.waitForSelector("#plan[open]");
            assertThat(page.textContent("#plan-actions")).contains("REEMBED").contains("qdrant");
            assertThat(node.stores().vectors().count(a, damaged).await())
                    .as("a preview changes nothing")
                    .isZero();
            page.click("#apply");
            issue.waitFor(new Locator.WaitForOptions()
                    .setState(WaitForSelectorState.DETACHED)
                    .setTimeout(60_000));
            assertThat(node.stores().vectors().count(a, damaged).await()).isPositive();
            // The issue row and the file row are refreshed by separate events: wait for the file's.
            page.waitForSelector(
                    "#files tr[data-file='" + damaged + "'] .synced",
                    new Page.WaitForSelectorOptions().setTimeout(30_000));
            assertThat(page.locator("#files tr[data-file='" + damaged + "'] .synced")
                            .count())
                    .isEqualTo(1);

            // A file uploaded through the API appears in the open page, without reload.
            long before = System.nanoTime();
            String fresh = upload(admin, a, "fresh.txt", "a brand new note");
            page.waitForSelector(
                    "#files tr[data-file='" + fresh + "']", new Page.WaitForSelectorOptions().setTimeout(5000));
            System.out.printf("Upload visible in the admin UI after %d ms%n", (System.nanoTime() - before) / 1_000_000);
            assertThat(page.textContent("#events")).contains(fresh);
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("A running operation's progress bar advances; Cleanup stuck syncs clears a stuck one")
    void progressAndCleanup() {
        String t = TestStack.unique("ui-op");
        upload(admin, t, "x.txt", "some text for an operation");
        OperationTracker tracker = new OperationTracker(
                node.vertx(),
                node.stores().syncOperations(),
                new EventPublisher(node.vertx().eventBus(), node.stores().events()),
                new TimeoutPolicy(300, 10, 300, 7200),
                Duration.ofSeconds(1),
                Membership.of(node.vertx(), node.config().nodeId()),
                node.stores().incarnations());
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            TrackedOperation op = tracker.start(t, "repair", 20).await();
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t);
            op.progress("processing_files", 5, 20, 5);
            page.waitForFunction(
                    "() => document.getElementById('op-progress').value >= 25",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(15_000));
            assertThat(page.textContent("#op-files")).contains("5 of 20 files");
            op.progress("processing_files", 15, 20, 15);
            page.waitForFunction(
                    "() => document.getElementById('op-progress').value >= 75",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(15_000));
            op.complete(new JsonObject()).await();
            page.waitForSelector("#operation", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.HIDDEN));

            // A stuck one: its worker died ten minutes ago.
            Instant old = Instant.now().minusSeconds(600);
            node.stores()
                    .syncOperations()
                    .start(new SyncOperation(
                            "stuck-" + t,
                            t,
                            "scan",
                            SyncOperation.Status.RUNNING,
                            old,
                            null,
                            old,
                            7200,
                            null,
                            0,
                            null,
                            "gone-node",
                            null,
                            null,
                            null))
                    .await();
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/");
            page.waitForSelector("#overview:not([hidden])");
            page.waitForSelector("#tenants tr[data-tenant='" + t + "'] progress");
            page.click("#cleanup");
            page.waitForSelector("#message:has-text('Cleaned up')");
            assertThat(node.stores().syncOperations().get("stuck-" + t).await().status())
                    .isEqualTo(SyncOperation.Status.FAILED);
            page.waitForSelector(
                    "#tenants tr[data-tenant='" + t + "'] progress",
                    new Page.WaitForSelectorOptions().setState(WaitForSelectorState.DETACHED));
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("The tenant page's search box shows the best matching file first, with its score and snippet")
    void searchBox() {
        String t = TestStack.unique("ui-search");
        String token = tokens.issue(t, false, Duration.ofMinutes(10));
        upload(
                token,
                t,
                "bread.txt",
                "Sourdough bread: flour, water, salt and a starter, kneaded and baked in a hot oven.");
        upload(token, t, "whales.txt", "Humpback whales migrate across the Pacific ocean to their calving lagoons.");
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, token, errors);
            page.waitForSelector("#tenant:not([hidden])");
            page.fill("#search-query", "marine mammals in the ocean");
            page.click("#search-form button[type=submit]");
            page.waitForSelector("#search-results li");
            assertThat(page.textContent("#search-results li:first-child a:first-child"))
                    .isEqualTo("whales.txt");
            assertThat(page.textContent("#search-results li:first-child .snippet"))
                    .contains("Humpback whales");
            assertThat(page.locator("#search-results li").count()).isEqualTo(2);
            assertThat(page.textContent("#search-info")).contains("2 files");
            // Each result links to its file's page.
            page.click("#search-results li:first-child a.file-page");
            page.waitForSelector("#file:not([hidden])");
            page.waitForFunction("() => document.getElementById('file-name').textContent === 'whales.txt'");
            assertThat(errors).isEmpty();
        }
    }

    @Test
    @DisplayName("A tenant token sees only its tenant; admin controls are absent; another tenant is a readable error")
    void tenantTokenIsConfined() {
        String mine = TestStack.unique("ui-mine");
        String theirs = TestStack.unique("ui-theirs");
        String token = tokens.issue(mine, false, Duration.ofMinutes(10));
        upload(token, mine, "m.txt", "mine only");
        upload(admin, theirs, "t.txt", "not yours");
        try (BrowserContext context = chromium.browser().newContext()) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, token, errors);
            page.waitForSelector("#tenant:not([hidden])");
            assertThat(page.textContent("#tenant-name")).isEqualTo(mine);
            assertThat(page.textContent("#who")).contains("tenant " + mine);
            assertThat(page.isVisible("#overview")).isFalse();
            assertThat(page.isVisible("#cleanup")).isFalse();
            assertThat(page.isVisible("#analyze-all")).isFalse();
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + theirs);
            page.waitForSelector("#message:not([hidden])");
            assertThat(page.textContent("#message")).contains("not this token's tenant");
            assertThat(page.content()).doesNotContain("t.txt");
            errors.removeIf(m -> m.contains("403"));
            assertThat(errors).isEmpty();
        }
    }
}
