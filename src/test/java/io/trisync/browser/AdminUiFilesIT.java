package io.trisync.browser;

import static io.trisync.browser.AdminUi.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import io.trisync.store.MetadataStore;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin UI in headless Debian Chromium: a file's page, a tenant's page (search, erase), and what a tenant token sees. */
@Timeout(300)
class AdminUiFilesIT {

    @BeforeAll
    static void start() {
        AdminUi.start();
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
                        .setPath(Path.of("target", "screenshots", "file-page-" + width + ".png"))
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
    @DisplayName("A tenant's HTML file opened from the admin UI is downloaded, never run in the admin's origin,"
            + " and its content is served as an attachment that runs nothing; a text file opens as plain text in a"
            + " tab that cannot reach the admin's page")
    void tenantContentNeverRunsInTheAdminsOrigin() throws Exception {
        String t = TestStack.unique("ui-html");
        String html = "<html><body><script>document.title = 'RAN';"
                + " if (window.opener) { window.opener.document.title = 'STOLEN:'"
                + " + window.opener.sessionStorage.getItem('trisync.token'); }</script>html</body></html>";
        String page1 = upload(admin, t, "evil.html", html, "text/html");
        String text = Fixtures.prose(30) + " <script>document.title = 'RAN'</script>";
        String page2 = upload(admin, t, "plain.txt", text, "text/plain");

        var served = web.get(node.httpPort(), "127.0.0.1", "/api/files/" + page1 + "/content?user_id=" + t)
                .bearerTokenAuthentication(admin)
                .send()
                .await();
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.getHeader("Content-Disposition")).startsWith("attachment; filename=\"evil.html\"");
        assertThat(served.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(served.getHeader("Content-Security-Policy")).contains("sandbox");
        var ui = web.get(node.httpPort(), "127.0.0.1", "/").send().await();
        assertThat(ui.getHeader("X-Frame-Options"))
                .as("no other origin frames the admin UI")
                .isEqualTo("SAMEORIGIN");

        try (BrowserContext context =
                chromium.browser().newContext(new Browser.NewContextOptions().setAcceptDownloads(true))) {
            List<String> errors = new ArrayList<>();
            Page page = signedIn(context, admin, errors);
            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t + "/file/" + page1);
            page.waitForFunction("() => document.getElementById('file-name').textContent === 'evil.html'");
            var download = page.waitForDownload(() -> page.click("#file-open"));
            assertThat(download.suggestedFilename()).isEqualTo("evil.html");
            assertThat(Files.readString(download.path())).isEqualTo(html);
            assertThat(context.pages()).as("no tab opened").hasSize(1);
            assertThat(page.title()).doesNotContain("STOLEN");

            page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/tenant/" + t + "/file/" + page2);
            page.waitForFunction("() => document.getElementById('file-name').textContent === 'plain.txt'");
            Page tab = context.waitForPage(() -> page.click("#file-open"));
            tab.waitForLoadState();
            assertThat(tab.evaluate("() => document.contentType")).isEqualTo("text/plain");
            assertThat(tab.evaluate("() => window.opener === null")).isEqualTo(true);
            assertThat(tab.textContent("body")).contains("<script>");
            assertThat(tab.title()).isNotEqualTo("RAN");
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
            assertThat(Files.readString(download.path())).isEqualTo(first);
            assertThat(download.suggestedFilename()).isEqualTo("v1-versioned.txt");
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
                            .count(MetadataStore.FileQuery.tenant(t))
                            .await())
                    .isZero();
            assertThat(node.stores().vectors().count(t, a).await()).isZero();
            assertThat(errors).isEmpty();
        } finally {
            PROMPT_ANSWER.set("");
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
