package io.trisync.repair;

import static io.trisync.repair.RepairFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.bus.Membership;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TimeoutPolicy;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a fix does not do: act on files that changed since the scan, repair failed extractions away,
 * take a person's decision when it runs automatically, or accept bad input.
 */
@Timeout(300)
class RepairSafetyIT {

    @Test
    @DisplayName("Files that changed between the scan and the fix are re-verified and not touched")
    void reverifiesBeforeActing() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("reverify");
            byte[] bytes = utf8(Fixtures.prose(200));
            String a = http.upload(tenant, "a.txt", "text/plain", bytes, null)
                    .bodyAsJsonObject()
                    .getString("id");
            String b = http.upload(tenant, "b.txt", "text/plain", bytes, null)
                    .bodyAsJsonObject()
                    .getString("id");
            FileRecord ra = s.metadata().get(a).await();
            FileRecord rb = s.metadata().get(b).await();
            s.blobs().delete(key(ra)).await();
            s.metadata().remove(b).await();
            assertThat(issues(analyze(http, tenant)))
                    .containsExactlyInAnyOrder("MISSING_BLOB:" + a, "ORPHAN_BLOB:" + b, "ORPHAN_VECTORS:" + b);

            // Re-uploaded meanwhile: a's content is back, b's record is written again.
            s.blobs()
                    .putBytes(key(ra), Buffer.buffer(bytes), "text/plain", Map.of("sha256", ra.sha256()))
                    .await();
            s.metadata().upsert(rb).await();

            // a's RESTORE_BLOB and b's RESTORE_RECORD (its record rebuilt from its upload) are both re-verified.
            JsonObject result = fixAndWait(http, tenant);
            assertThat(result.getJsonObject("result").getLong("already_resolved"))
                    .isEqualTo(2);
            result.getJsonArray("actions").forEach(x -> assertThat(((JsonObject) x).getString("status"))
                    .isEqualTo("already_resolved"));
            assertThat(s.blobs().getBytes(key(rb)).await().getBytes()).isEqualTo(bytes);
            assertThat(s.vectors().count(tenant, b).await())
                    .isEqualTo(rb.embedding().chunks());
            assertThat(s.metadata().get(a).await().sync().verdict()).isEqualTo("synced");
            assertThat(http.get("/api/sync/quarantine?user_id=" + tenant)
                            .bodyAsJsonObject()
                            .getJsonArray("items"))
                    .isEmpty();
            assertThat(analyze(http, tenant).getJsonArray("issues")).isEmpty();
        }
    }

    @Test
    @DisplayName("Auto-repair takes only the actions safe without a person: re-embed and quarantine, not a flag")
    void autoRepairIsSafeOnly() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("auto");
            List<FileRecord> f = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String id = http.upload(tenant, "a" + i + ".txt", "text/plain", utf8(Fixtures.prose(120) + i), null)
                        .bodyAsJsonObject()
                        .getString("id");
                f.add(s.metadata().get(id).await());
            }
            s.blobs().delete(key(f.get(0))).await();
            s.vectors().deleteFile(tenant, f.get(1).id()).await();
            // f2's record is gone and so is its upload (the log's retention): an orphan to quarantine.
            s.metadata().remove(f.get(2).id()).await();
            forgetOperations(node, f.get(2).id());
            assertThat(analyze(http, tenant).getJsonArray("issues")).hasSize(4);

            String opId = node.vertx()
                    .eventBus()
                    .<JsonObject>request(RepairAddresses.AUTO, new JsonObject().put("tenantId", tenant))
                    .await()
                    .body()
                    .getString("operation_id");
            JsonObject result = awaitFix(http, opId);
            Set<String> taken = new TreeSet<>();
            result.getJsonArray("actions").forEach(a -> taken.add(((JsonObject) a).getString("action")));
            assertThat(taken).containsExactly("DELETE_POINTS", "QUARANTINE_BLOB", "REEMBED");
            assertThat(issues(analyze(http, tenant)))
                    .containsExactly("MISSING_BLOB:" + f.get(0).id());
            assertThat(s.metadata().get(f.get(0).id()).await().sync().attention())
                    .as("not flagged by auto-repair")
                    .isNull();
        }
    }

    @Test
    @DisplayName("A re-embed of content whose text extraction fails is a failed action with the reason; a failed"
            + " extraction is left to a person")
    void extractionFailuresAreNotRepairedAway() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("extract");
            String text = http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(200)), null)
                    .bodyAsJsonObject()
                    .getString("id");
            String broken = http.upload(tenant, "b.pdf", "application/pdf", utf8("%PDF-1.7 garbage"), null)
                    .bodyAsJsonObject()
                    .getString("id");
            FileRecord before = s.metadata().get(text).await();
            // The text file's points are lost, and its record now calls it a PDF: re-extraction fails.
            s.vectors().deleteFile(tenant, text).await();
            assertThat(s.metadata()
                            .patch(text, new JsonObject(), new JsonObject().put("contentType", "application/pdf"))
                            .await())
                    .isTrue();
            assertThat(issues(analyze(http, tenant)))
                    .containsExactlyInAnyOrder("MISSING_VECTORS:" + text, "EMBEDDING_FAILED:" + broken);

            JsonObject result = fixAndWait(http, tenant);
            JsonObject totals = result.getJsonObject("result");
            assertThat(totals.getLong("attempted")).as(totals.encodePrettily()).isEqualTo(2);
            assertThat(totals.getLong("failed")).isEqualTo(1);
            assertThat(totals.getLong("left_to_person")).isEqualTo(1);
            assertThat(totals.getLong("successful")).isZero();
            Map<String, JsonObject> audit = new HashMap<>();
            result.getJsonArray("actions")
                    .forEach(a -> audit.put(((JsonObject) a).getString("action"), (JsonObject) a));
            assertThat(audit.get("REEMBED").getString("status")).isEqualTo("failed");
            assertThat(audit.get("REEMBED").getString("reason"))
                    .startsWith("text extraction failed: PDFBox cannot read the PDF");
            assertThat(audit.get("FLAG_FOR_PERSON").getString("status")).isEqualTo("left_to_person");
            assertThat(audit.get("FLAG_FOR_PERSON").getString("file_id")).isEqualTo(broken);

            FileRecord after = s.metadata().get(text).await();
            assertThat(after.embedding().chunks())
                    .as("no re-embed recorded")
                    .isEqualTo(before.embedding().chunks());
            assertThat(s.vectors().count(tenant, text).await()).isZero();
            SyncVerdict flagged = s.metadata().get(broken).await().sync();
            assertThat(flagged.verdict()).isEqualTo("error");
            assertThat(flagged.attentionReason()).startsWith("text extraction failed (PDFBox cannot read the PDF");
            assertThat(events(s, tenant, "sync.issue_failed")).isEqualTo(2);
            assertThat(issues(analyze(http, tenant)))
                    .containsExactlyInAnyOrder("MISSING_VECTORS:" + text, "EMBEDDING_FAILED:" + broken);
        }
    }

    @Test
    @DisplayName("Bad input is a 400 naming the field; a fix while the tenant has an operation running is a 409")
    void badInput() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            assertBad(
                    http,
                    new JsonObject().put("user_id", "t").put("issue_types", new JsonArray().add("NOPE")),
                    "issue_types");
            assertBad(
                    http, new JsonObject().put("user_id", "t").put("file_ids", new JsonArray().add("a/b")), "file_ids");
            assertBad(http, new JsonObject().put("user_id", "bad id!"), "user_id");
            assertBad(http, new JsonObject().put("dry_run", "no"), "dry_run");
            assertThat(http.get("/api/sync/fix/nope").statusCode()).isEqualTo(404);
            assertThat(http.get("/api/sync/quarantine?state=lost").statusCode()).isEqualTo(400);
            assertThat(http.post("/api/sync/quarantine/abc/restore", "application/json", Buffer.buffer())
                            .statusCode())
                    .isEqualTo(404);
            var unknown = post(http, "/api/sync/fix", new JsonObject().put("user_id", TestStack.unique("nobody")));
            assertThat(unknown.statusCode()).isEqualTo(200);
            assertThat(unknown.bodyAsJsonObject().getJsonObject("counts").getInteger("actions"))
                    .isZero();

            String tenant = TestStack.unique("busy");
            // An operation held running by the test (a real scan of an empty tenant ends too soon to race).
            var op = new OperationTracker(
                            node.vertx(),
                            node.stores().syncOperations(),
                            new EventPublisher(
                                    node.vertx().eventBus(), node.stores().events()),
                            new TimeoutPolicy(300, 10, 300, 7200),
                            Duration.ofSeconds(30),
                            Membership.of(node.vertx(), node.config().nodeId()),
                            node.stores().incarnations())
                    .start(tenant, "scan", 1)
                    .await();
            assertThat(op.record().status().wire()).isEqualTo("running");
            var busy = post(
                    http,
                    "/api/sync/fix",
                    new JsonObject().put("user_id", tenant).put("dry_run", false));
            assertThat(busy.statusCode()).as(busy.bodyAsString()).isEqualTo(409);
            assertThat(busy.bodyAsString()).contains("progress");
            op.complete(new JsonObject()).await();
        }
    }

    @Test
    @DisplayName("A typo'd dry-run field is refused naming it, and the file the repair would have changed is untouched")
    void typoedDryRunChangesNothing() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("typo");
            String orphan = http.upload(tenant, "o.txt", "text/plain", utf8(Fixtures.prose(200)), null)
                    .bodyAsJsonObject()
                    .getString("id");
            s.metadata().remove(orphan).await();
            assertThat(issues(analyze(http, tenant)))
                    .containsExactlyInAnyOrder("ORPHAN_BLOB:" + orphan, "ORPHAN_VECTORS:" + orphan);
            Set<String> before = snapshot(s, tenant);
            int operations = operations(http, tenant);

            // Without the check, the fix would ignore dry_rn (and plan, its default), the repair started
            // by kind would ignore it too and quarantine the orphan's blob and delete its points.
            for (var typo : List.of(
                    Map.entry("/api/sync/fix", new JsonObject().put("user_id", tenant)),
                    Map.entry(
                            "/api/v1/sync",
                            new JsonObject().put("tenant_id", tenant).put("kind", "repair")))) {
                var refused = post(http, typo.getKey(), typo.getValue().copy().put("dry_rn", true));
                assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(400);
                assertThat(refused.bodyAsJsonObject().getString("message"))
                        .startsWith("dry_rn: unknown field (this endpoint takes: ")
                        .contains("dry_run");
            }

            assertThat(operations(http, tenant)).as("no operation started").isEqualTo(operations);
            assertThat(snapshot(s, tenant))
                    .as("the orphan's blob and points are where they were")
                    .isEqualTo(before);
            assertThat(quarantinedObjects(s, tenant)).isEmpty();
        }
    }

    /** Removes the file's operations from the log, as its retention does days after they ended. */
    private static void forgetOperations(Node node, String fileId) {
        MongoClient client = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            assertThat(client.removeDocuments("ingest_ops", new JsonObject().put("fileId", fileId))
                            .await()
                            .getRemovedCount())
                    .isPositive();
        } finally {
            client.close().await();
        }
    }

    private static int operations(Http http, String tenant) {
        var r = http.get("/api/v1/sync/operations?limit=100&tenant_id=" + tenant);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getJsonArray("operations").size();
    }
}
