package io.trisync.browser;

import static io.trisync.browser.AdminUi.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.trisync.bus.Membership;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TimeoutPolicy;
import io.trisync.ops.TrackedOperation;
import io.trisync.store.SyncOperation;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.StuckOperations;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin UI in headless Debian Chromium: scans, repairs and operations (trends, progress, analyze and fix, cleanup). */
@Timeout(300)
class AdminUiOperationsIT {

    @BeforeAll
    static void start() {
        AdminUi.start();
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
                            .setPath(Path.of("target", "screenshots", view + "-" + width + ".png"))
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
                Matcher m = Pattern.compile("^(\\d+) of (\\d+) files").matcher(line);
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
            // A re-index's progress tells the files it left out apart (its result names them).
            op.progressOfFiles("updating_embeddings", 14, 1, 20, null, null, null, null);
            page.waitForFunction(
                    "() => document.getElementById('op-progress').value >= 75",
                    null,
                    new Page.WaitForFunctionOptions().setTimeout(15_000));
            assertThat(page.textContent("#op-files")).contains("15 of 20 files (1 skipped)");
            op.complete(new JsonObject()).await();
            page.waitForSelector("#operation", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.HIDDEN));

            // A stuck one: its worker died ten minutes ago.
            node.stores()
                    .syncOperations()
                    .start(StuckOperations.scanOfGoneNode(t))
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
            assertThat(page.isVisible("#message"))
                    .as("the result is still shown after the refresh it started")
                    .isTrue();
            assertThat(page.textContent("#message")).contains("Cleaned up");
            assertThat(errors).isEmpty();
        }
    }
}
