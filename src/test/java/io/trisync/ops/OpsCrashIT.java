package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node killed with SIGKILL while a scan and while a repair runs: after the restart the tracked
 * operation has ended failed (it does not stay running until its heartbeat goes stale), the tenant
 * starts a new one at once, and the repair's audit trail tells which actions were done, each of
 * them really done in the stores.
 */
@Timeout(600)
class OpsCrashIT {

    private static final int FILES = 60;

    private static Vertx vertx;
    private static WebClient web;
    private static ChildNode node;
    private static final String TENANT = TestStack.unique("opscrash");
    private static final List<String> ids = new ArrayList<>();

    @BeforeAll
    static void startNode() {
        vertx = Vertx.vertx();
        web = WebClient.create(vertx);
        // Many partitions scanned one at a time, so a scan of a small tenant runs for seconds; its
        // progress is stored with each heartbeat, every second.
        node = new ChildNode(
                TestStack.tempDir("trisync-opscrash"),
                Map.of(
                        "SYNC_PARTITIONS", "512",
                        "SYNC_SCAN_PARALLELISM", "1",
                        "SYNC_HEARTBEAT_INTERVAL_SECONDS", "1"));
        node.start(120);
        for (int i = 0; i < FILES; i++) {
            MultipartForm form = MultipartForm.create()
                    .attribute("user_id", TENANT)
                    .binaryFileUpload(
                            "file",
                            "f" + i + ".txt",
                            Buffer.buffer(Fixtures.utf8(Fixtures.prose(400) + i)),
                            "text/plain");
            HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                    .sendMultipartForm(form)
                    .await();
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
    }

    @AfterAll
    static void stop() {
        node.close();
        web.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("A scan running when its node is killed ends failed after the restart, and a new scan starts at once")
    void killDuringScan() {
        JsonObject started = post(
                "/api/sync/analyze", new JsonObject().put("user_id", TENANT).put("wait", false));
        String opId = started.getJsonArray("operation_ids").getString(0);
        JsonObject[] seen = new JsonObject[1];
        try {
            Await.until("the scan to be under way", 60_000, () -> {
                JsonObject op = latest();
                seen[0] = op;
                return "running".equals(op.getString("status"))
                        && op.getJsonObject("progress").getDouble("percentage") > 0;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen " + seen[0], e);
        }
        node.kill();

        node.start(120);
        Await.until("the killed scan to end", 30_000, () -> !"running".equals(latestOf(opId)));
        JsonObject ended = history().stream()
                .map(JsonObject.class::cast)
                .filter(o -> o.getString("id").equals(opId))
                .findFirst()
                .orElseThrow();
        assertThat(ended.getString("status")).isEqualTo("failed");
        assertThat(ended.getString("error_message")).contains("gone");
        HttpResponse<Buffer> again =
                send("/api/v1/sync", new JsonObject().put("tenant_id", TENANT).put("kind", "scan"));
        assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
        Await.until("the new scan to complete", 120_000, () -> "completed".equals(latest().getString("status")));
    }

    @Test
    @DisplayName("A repair running when its node is killed ends failed; its audit says what was done, and that is done")
    void killDuringRepair() {
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            for (String id : ids) {
                stores.vectors().deleteFile(TENANT, id).await();
            }
            JsonObject report = post("/api/sync/analyze", new JsonObject().put("user_id", TENANT));
            assertThat(report.getJsonObject("summary")
                            .getJsonObject("issues_by_type")
                            .getInteger("MISSING_VECTORS"))
                    .isEqualTo(FILES);
            JsonObject fix = post(
                    "/api/sync/fix", new JsonObject().put("user_id", TENANT).put("dry_run", false));
            String opId = fix.getString("operation_id");
            Await.until(
                    "the repair to have done a few actions",
                    60_000,
                    () -> audit(opId).size() >= 3);
            node.kill();

            node.start(120);
            Await.until("the killed repair to end", 30_000, () -> !"running".equals(latestOf(opId)));
            JsonObject after = get("/api/sync/fix/" + opId + "?user_id=" + TENANT);
            assertThat(after.getJsonObject("operation").getString("status")).isEqualTo("failed");
            JsonArray actions = after.getJsonArray("actions");
            assertThat(actions.size()).as("actions recorded before the kill").isBetween(3, FILES - 1);
            Stores reader = Stores.create(vertx, node.storesConfig());
            try {
                for (Object a : actions) {
                    JsonObject action = (JsonObject) a;
                    assertThat(action.getString("status")).isEqualTo("done");
                    assertThat(reader.vectors()
                                    .count(TENANT, action.getString("file_id"))
                                    .await())
                            .as("vectors of %s, re-embedded before the kill", action.getString("file_id"))
                            .isPositive();
                }
            } finally {
                reader.close().await();
            }
            HttpResponse<Buffer> again = send(
                    "/api/sync/fix", new JsonObject().put("user_id", TENANT).put("dry_run", false));
            assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
        } finally {
            stores.close().await();
        }
    }

    private static JsonArray audit(String opId) {
        return get("/api/sync/fix/" + opId + "?user_id=" + TENANT).getJsonArray("actions");
    }

    private static String latestOf(String opId) {
        return history().stream()
                .map(JsonObject.class::cast)
                .filter(o -> o.getString("id").equals(opId))
                .map(o -> o.getString("status"))
                .findFirst()
                .orElse("missing");
    }

    private static JsonObject latest() {
        return get("/api/v1/sync/status?tenant_id=" + TENANT).getJsonObject("latest_sync");
    }

    private static JsonArray history() {
        return get("/api/v1/sync/operations?tenant_id=" + TENANT + "&limit=50").getJsonArray("operations");
    }

    private static JsonObject get(String path) {
        HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", path)
                .timeout(30_000)
                .send()
                .await();
        assertThat(r.statusCode()).as(path + ": " + r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static JsonObject post(String path, JsonObject body) {
        HttpResponse<Buffer> r = send(path, body);
        assertThat(r.statusCode()).as(path + ": " + r.bodyAsString()).isBetween(200, 202);
        return r.bodyAsJsonObject();
    }

    private static HttpResponse<Buffer> send(String path, JsonObject body) {
        return web.post(node.httpPort(), "127.0.0.1", path)
                .timeout(120_000)
                .sendJsonObject(body)
                .await();
    }
}
