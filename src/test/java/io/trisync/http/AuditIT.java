package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.store.Actor;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.StuckOperations;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Who did what: the caller of an upload, a delete, a fix, a restore and a cancel is recorded on the
 * operation or audit entry each made (token subject, tenant, admin or not, client address) and shown
 * where the API shows that record.
 */
@Timeout(180)
class AuditIT {

    static final String SECRET = "audit-test-secret-0123456789abcdef-0000";

    @Test
    @DisplayName("Upload, delete, fix, quarantine restore and cancel each record their caller")
    void callersRecorded() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("AUTH_ENABLED", "true", "AUTH_JWT_SECRET", SECRET)), false)
                .await();
        WebClient web = WebClient.create(node.vertx());
        try {
            Tokens tokens = Tokens.of(node.vertx(), SECRET);
            String tenant = TestStack.unique("audit");
            String tenantToken = tokens.issue(tenant, false, Duration.ofMinutes(10));
            String adminToken = tokens.issue(null, true, Duration.ofMinutes(10));
            String admin = subject(adminToken);
            assertThat(admin).startsWith("admin-");

            // An upload by the tenant, a delete by the admin: each on its ingest operation.
            String kept = upload(web, node, tenantToken, tenant, "kept.txt");
            String gone = upload(web, node, tenantToken, tenant, "gone.txt");
            Actor uploader = node.stores().operations().uploadOf(kept).await().actor();
            assertThat(uploader).isEqualTo(new Actor("tenant-" + tenant, tenant, false, "127.0.0.1"));
            var deleted = send(web, node, adminToken, "DELETE", "/api/files/" + gone + "?user_id=" + tenant, null);
            assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);
            String deleteOp = deleted.bodyAsJsonObject().getString("operation_id");
            assertThat(node.stores().operations().get(deleteOp).await().actor())
                    .isEqualTo(new Actor(admin, null, true, "127.0.0.1"));

            // An orphan object for a fix to quarantine; the fix by the admin names the admin.
            String orphanId = Fixtures.fileId("orphan-x");
            String orphan = StoreKeys.blobKey(
                    tenant, StoreKeys.partition(orphanId, node.config().sync().partitions()), orphanId);
            node.stores()
                    .blobs()
                    .putBytes(orphan, Buffer.buffer("left by hand"), "text/plain", Map.of())
                    .await();
            assertThat(send(web, node, tenantToken, "POST", "/api/sync/analyze", new JsonObject())
                            .statusCode())
                    .isEqualTo(200);
            var fix = send(
                    web,
                    node,
                    adminToken,
                    "POST",
                    "/api/sync/fix",
                    new JsonObject().put("user_id", tenant).put("dry_run", false));
            assertThat(fix.statusCode()).as(fix.bodyAsString()).isEqualTo(202);
            String fixOp = fix.bodyAsJsonObject().getString("operation_id");
            Await.until("the fix to end", 60_000, () -> !"running"
                    .equals(result(web, node, tenantToken, fixOp)
                            .getJsonObject("operation")
                            .getString("status")));
            JsonObject startedBy = result(web, node, tenantToken, fixOp)
                    .getJsonObject("operation")
                    .getJsonObject("started_by");
            assertThat(startedBy.getString("subject")).isEqualTo(admin);
            assertThat(startedBy.getBoolean("admin")).isTrue();
            // Who acted is the tenant's to see; where the admin connected from is only an admin's.
            assertThat(startedBy.containsKey("address")).isFalse();
            assertThat(result(web, node, adminToken, fixOp)
                            .getJsonObject("operation")
                            .getJsonObject("started_by")
                            .getString("address"))
                    .isEqualTo("127.0.0.1");
            JsonArray history = send(web, node, tenantToken, "GET", "/api/v1/sync/operations", null)
                    .bodyAsJsonObject()
                    .getJsonArray("operations");
            JsonObject listed = history.stream()
                    .map(JsonObject.class::cast)
                    .filter(o -> fixOp.equals(o.getString("id")))
                    .findFirst()
                    .orElseThrow();
            assertThat(listed.getJsonObject("started_by").getString("subject")).isEqualTo(admin);
            JsonObject scan = history.stream()
                    .map(JsonObject.class::cast)
                    .filter(o -> "scan".equals(o.getString("kind")))
                    .findFirst()
                    .orElseThrow();
            assertThat(scan.getJsonObject("started_by").getString("subject")).isEqualTo("tenant-" + tenant);

            // The tenant restores what the fix quarantined: the ledger entry names the tenant.
            JsonArray items = send(web, node, tenantToken, "GET", "/api/sync/quarantine", null)
                    .bodyAsJsonObject()
                    .getJsonArray("items");
            assertThat(items).hasSize(1);
            var restored = send(
                    web,
                    node,
                    tenantToken,
                    "POST",
                    "/api/sync/quarantine/" + items.getJsonObject(0).getString("id") + "/restore",
                    null);
            assertThat(restored.statusCode()).as(restored.bodyAsString()).isEqualTo(200);
            assertThat(restored.bodyAsJsonObject().getJsonObject("restored_by").getString("subject"))
                    .isEqualTo("tenant-" + tenant);

            // A cancel by the admin is recorded on the cancelled operation (one held running here).
            String busy = TestStack.unique("audit-busy");
            var held = OperationTracker.of(
                            node.vertx(),
                            node.config(),
                            node.stores(),
                            EventPublisher.of(node.vertx(), node.config(), node.stores()))
                    .start(busy, "scan", 1)
                    .await();
            var cancelled = send(
                    web,
                    node,
                    adminToken,
                    "POST",
                    "/api/v1/sync/" + held.record().id() + "/cancel",
                    null);
            assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(200);
            assertThat(cancelled.bodyAsJsonObject().getString("error_message"))
                    .isEqualTo("cancelled on request by " + admin);
            assertThat(node.stores()
                            .syncOperations()
                            .get(held.record().id())
                            .await()
                            .result()
                            .getJsonObject("cancelled_by")
                            .getString("subject"))
                    .isEqualTo(admin);

            // An admin's cleanup records the admin on each stuck operation it ends.
            String stuckTenant = TestStack.unique("audit-stuck");
            var stuck = StuckOperations.scanOfGoneNode(stuckTenant);
            node.stores().syncOperations().start(stuck).await();
            var cleaned = send(web, node, adminToken, "POST", "/api/v1/sync/cleanup", null);
            assertThat(cleaned.statusCode()).as(cleaned.bodyAsString()).isEqualTo(200);
            assertThat(cleaned.bodyAsJsonObject().getInteger("cleaned")).isPositive();
            assertThat(node.stores()
                            .syncOperations()
                            .get(stuck.id())
                            .await()
                            .result()
                            .getJsonObject("cleaned_by")
                            .getString("subject"))
                    .isEqualTo(admin);
        } finally {
            web.close();
            node.stop().await();
        }
    }

    private static JsonObject result(WebClient web, Node node, String token, String opId) {
        var r = send(web, node, token, "GET", "/api/sync/fix/" + opId, null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static String subject(String token) {
        String payload = token.split("\\.")[1];
        return new JsonObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8))
                .getString("sub");
    }

    private static String upload(WebClient web, Node node, String token, String tenant, String name) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(Fixtures.prose(40) + name)), "text/plain");
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Authorization", "Bearer " + token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static HttpResponse<Buffer> send(
            WebClient web, Node node, String token, String method, String path, JsonObject body) {
        var request = web.request(HttpMethod.valueOf(method), node.httpPort(), "127.0.0.1", path)
                .putHeader("Authorization", "Bearer " + token);
        return (body == null ? request.send() : request.sendJsonObject(body)).await();
    }
}
