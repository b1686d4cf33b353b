package io.trisync.repair;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** End to end on the embedded stack: ingest, damage through the raw clients, scan, dry-run, fix, scan. */
@Timeout(300)
class RepairIT {

    private static final int P = 8;
    private static final String BACKUP = "backup~/";

    @Test
    @DisplayName("Every issue type: the dry run plans exactly the expected actions and touches nothing; the fix"
            + " leaves the tenant synced except the files for a person; quarantined objects restore byte for"
            + " byte; a second fix changes nothing")
    void repairsEveryIssueType() {
        Node node = Node.start(
                        TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P, "SYNC_BACKUP_PREFIX", BACKUP)), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("rep");
            List<FileRecord> f = new ArrayList<>();
            Map<String, byte[]> original = new HashMap<>();
            for (int i = 0; i < 11; i++) {
                byte[] bytes = utf8(Fixtures.prose(360) + " file " + i);
                String id = http.upload(tenant, "f" + i + ".txt", "text/plain", bytes, null)
                        .bodyAsJsonObject()
                        .getString("id");
                f.add(s.metadata().get(id).await());
                original.put(id, bytes);
            }
            assertThat(f.get(3).embedding().chunks()).isGreaterThan(1);

            // f0: blob lost, a backup holds it. f1: blob lost, no backup.
            s.blobs().copy(key(f.get(0)), BACKUP + key(f.get(0))).await();
            s.blobs().delete(key(f.get(0))).await();
            s.blobs().delete(key(f.get(1))).await();
            // f2: every point gone. f3: one chunk's point gone. f4: a point made by another model.
            s.vectors().deleteFile(tenant, f.get(2).id()).await();
            s.vectors()
                    .delete(List.of(StoreKeys.chunkPointId(f.get(3).id(), 1)))
                    .await();
            s.vectors()
                    .upsert(List.of(point(f.get(4), 0, f.get(4).sha256(), "old-model")))
                    .await();
            // f5: a point of a chunk the file does not have.
            s.vectors()
                    .upsert(List.of(point(
                            f.get(5),
                            99,
                            f.get(5).sha256(),
                            f.get(5).embedding().model())))
                    .await();
            // f6: the record's size is wrong (the bytes are the upload's).
            s.metadata()
                    .upsert(with(f.get(6), f.get(6).size() + 5, FileRecord.Status.ACTIVE))
                    .await();
            // f7: the bytes were overwritten out of band (same length, new sha256 metadata): no known version.
            byte[] other = new byte[(int) f.get(7).size()];
            byte[] noise = utf8(Fixtures.prose(400) + " overwritten");
            System.arraycopy(noise, 0, other, 0, other.length);
            s.blobs()
                    .putBytes(
                            key(f.get(7)), Buffer.buffer(other), "text/plain", Map.of("sha256", Fixtures.sha256(other)))
                    .await();
            // f8: the record's sha256 was corrupted; the content is the upload's (a known version).
            s.metadata().upsert(withSha(f.get(8), "0".repeat(64))).await();
            // f9: the record is gone (orphan blob and orphan points). f10: deleted, but blob and points remain.
            s.metadata().remove(f.get(9).id()).await();
            s.metadata()
                    .upsert(with(f.get(10), f.get(10).size(), FileRecord.Status.DELETED))
                    .await();
            // An orphan object and orphan points of files trisync never had.
            byte[] orphanBytes = utf8("left behind by hand");
            String orphanKey = StoreKeys.blobKey(tenant, StoreKeys.partition("orphan-object", P), "orphan-object");
            s.blobs()
                    .putBytes(orphanKey, Buffer.buffer(orphanBytes), "text/plain", Map.of("origin", "manual"))
                    .await();
            s.vectors()
                    .upsert(List.of(ChunkPoint.of(
                            tenant, "ghost-file", 0, StoreKeys.partition("ghost-file", P), "sha", "m", vector())))
                    .await();

            Set<String> expectedIssues = Set.of(
                    "MISSING_BLOB:" + f.get(0).id(),
                    "MISSING_BLOB:" + f.get(1).id(),
                    "MISSING_VECTORS:" + f.get(2).id(),
                    "MISSING_CHUNKS:" + f.get(3).id(),
                    "STALE_VECTORS:" + f.get(4).id(),
                    "EXTRA_CHUNKS:" + f.get(5).id(),
                    "SIZE_MISMATCH:" + f.get(6).id(),
                    "CHECKSUM_MISMATCH:" + f.get(7).id(),
                    "CHECKSUM_MISMATCH:" + f.get(8).id(),
                    "STALE_VECTORS:" + f.get(8).id(),
                    "ORPHAN_BLOB:" + f.get(9).id(),
                    "ORPHAN_VECTORS:" + f.get(9).id(),
                    "DELETE_INCOMPLETE:" + f.get(10).id(),
                    "ORPHAN_BLOB:orphan-object",
                    "ORPHAN_VECTORS:ghost-file");
            assertThat(issues(analyze(http, tenant))).isEqualTo(expectedIssues);

            // Dry run: exactly the expected actions, and the stores untouched.
            Set<String> before = snapshot(s, tenant);
            var dry = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
            assertThat(dry.statusCode()).as(dry.bodyAsString()).isEqualTo(200);
            JsonObject plan = dry.bodyAsJsonObject();
            assertThat(plan.getBoolean("dry_run")).isTrue();
            Set<String> actions = new TreeSet<>();
            plan.getJsonArray("actions").forEach(a -> {
                JsonObject action = (JsonObject) a;
                actions.add(action.getString("action") + ":" + action.getString("file_id"));
                assertThat(action.getString("store")).isIn("mongodb", "s3", "qdrant");
                assertThat(action.getBoolean("reversible")).isTrue();
                assertThat(action.getString("undo")).isNotBlank();
            });
            assertThat(actions)
                    .containsExactlyInAnyOrder(
                            "RESTORE_BLOB:" + f.get(0).id(),
                            "RESTORE_BLOB:" + f.get(1).id(),
                            "REEMBED:" + f.get(2).id(),
                            "REEMBED:" + f.get(3).id(),
                            "REEMBED:" + f.get(4).id(),
                            "DELETE_EXTRA_POINTS:" + f.get(5).id(),
                            "VERIFY_CONTENT:" + f.get(6).id(),
                            "VERIFY_CONTENT:" + f.get(7).id(),
                            "VERIFY_CONTENT:" + f.get(8).id(),
                            "REEMBED:" + f.get(8).id(),
                            "QUARANTINE_BLOB:" + f.get(9).id(),
                            "DELETE_POINTS:" + f.get(9).id(),
                            "QUARANTINE_BLOB:" + f.get(10).id(),
                            "DELETE_POINTS:" + f.get(10).id(),
                            "QUARANTINE_BLOB:orphan-object",
                            "DELETE_POINTS:ghost-file");
            assertThat(plan.getJsonObject("counts").getInteger("actions")).isEqualTo(16);
            assertThat(snapshot(s, tenant)).as("a dry run touches no store").isEqualTo(before);

            // The fix.
            JsonObject result = fixAndWait(http, tenant);
            assertThat(result.getJsonObject("operation").getString("status")).isEqualTo("completed");
            JsonObject totals = result.getJsonObject("result");
            assertThat(totals.getLong("attempted")).isEqualTo(16);
            assertThat(totals.getLong("left_to_person")).isEqualTo(2);
            assertThat(totals.getLong("failed")).as(totals.encodePrettily()).isZero();
            assertThat(totals.getLong("successful")).isEqualTo(14);
            JsonArray audit = result.getJsonArray("actions");
            assertThat(audit).hasSize(16);
            audit.forEach(a -> {
                JsonObject entry = (JsonObject) a;
                assertThat(entry.getString("status")).isIn("done", "left_to_person", "already_resolved");
                assertThat(entry.getJsonObject("before")).isNotNull();
                assertThat(entry.getString("at")).isNotBlank();
                assertThat(entry.getString("undo")).isNotBlank();
            });

            // Scan again: synced, except the two files a person must see, marked error with the reason.
            JsonObject after = analyze(http, tenant);
            assertThat(issues(after))
                    .containsExactlyInAnyOrder(
                            "MISSING_BLOB:" + f.get(1).id(),
                            "CHECKSUM_MISMATCH:" + f.get(7).id());
            assertThat(after.getJsonObject("summary").getLong("error")).isEqualTo(2);
            assertThat(after.getJsonObject("summary").getLong("synced"))
                    .isEqualTo(after.getJsonObject("summary").getLong("total_files") - 2);
            SyncVerdict lost = s.metadata().get(f.get(1).id()).await().sync();
            assertThat(lost.verdict()).isEqualTo("error");
            assertThat(lost.attentionReason()).contains("content lost");
            SyncVerdict corrupt = s.metadata().get(f.get(7).id()).await().sync();
            assertThat(corrupt.verdict()).isEqualTo("error");
            assertThat(corrupt.attentionReason()).contains("matches no known version");
            assertThat(s.metadata().get(f.get(1).id()).await().size())
                    .as("metadata untouched")
                    .isEqualTo(f.get(1).size());
            assertThat(s.blobs().getBytes(key(f.get(0))).await().getBytes())
                    .isEqualTo(original.get(f.get(0).id()));
            assertThat(s.metadata().get(f.get(6).id()).await().size())
                    .isEqualTo(f.get(6).size());
            assertThat(s.metadata().get(f.get(8).id()).await().sha256())
                    .as("the record's sha256 restored from the upload")
                    .isEqualTo(f.get(8).sha256());
            assertThat(s.vectors().count(tenant, f.get(2).id()).await())
                    .isEqualTo(f.get(2).embedding().chunks());
            assertThat(s.blobs().getBytes(key(f.get(7))).await().getBytes())
                    .as("content left for a person")
                    .isEqualTo(other);
            assertThat(events(s, tenant, "sync.issue_resolved")).isEqualTo(13);
            assertThat(events(s, tenant, "sync.issue_failed")).isEqualTo(2);

            // Nothing was deleted: every removed object is in quarantine and restores byte for byte.
            JsonArray held = http.get("/api/sync/quarantine?user_id=" + tenant)
                    .bodyAsJsonObject()
                    .getJsonArray("items");
            Map<String, String> byFile = new HashMap<>();
            held.forEach(q -> byFile.put(((JsonObject) q).getString("file_id"), ((JsonObject) q).getString("id")));
            assertThat(byFile.keySet())
                    .containsExactlyInAnyOrder(f.get(9).id(), f.get(10).id(), "orphan-object");
            assertThat(s.blobs()
                            .head(orphanKey)
                            .transform(ar -> io.vertx.core.Future.succeededFuture(ar.succeeded()))
                            .await())
                    .isFalse();

            // A second fix changes nothing.
            Set<String> settled = snapshot(s, tenant);
            JsonObject again = fixAndWait(http, tenant).getJsonObject("result");
            assertThat(again.getLong("successful")).isZero();
            assertThat(again.getLong("failed")).isZero();
            assertThat(again.getLong("left_to_person")).isEqualTo(2);
            assertThat(snapshot(s, tenant)).isEqualTo(settled);

            for (String file : List.of(f.get(9).id(), f.get(10).id(), "orphan-object")) {
                var restored = http.post(
                        "/api/sync/quarantine/" + byFile.get(file) + "/restore", "application/json", Buffer.buffer());
                assertThat(restored.statusCode()).as(restored.bodyAsString()).isEqualTo(200);
            }
            assertThat(s.blobs().getBytes(key(f.get(9))).await().getBytes())
                    .isEqualTo(original.get(f.get(9).id()));
            assertThat(s.blobs().getBytes(key(f.get(10))).await().getBytes())
                    .isEqualTo(original.get(f.get(10).id()));
            assertThat(s.blobs().getBytes(orphanKey).await().getBytes()).isEqualTo(orphanBytes);
            assertThat(s.blobs().head(orphanKey).await().metadata())
                    .containsEntry("origin", "manual")
                    .hasSize(1);
            var twice = http.post(
                    "/api/sync/quarantine/" + byFile.get("orphan-object") + "/restore",
                    "application/json",
                    Buffer.buffer());
            assertThat(twice.statusCode()).isEqualTo(409);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Files that changed between the scan and the fix are re-verified and not touched")
    void reverifiesBeforeActing() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P)), false)
                .await();
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

            JsonObject result = fixAndWait(http, tenant);
            assertThat(result.getJsonObject("result").getLong("already_resolved"))
                    .isEqualTo(3);
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
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A fix interrupted by a node stopping half way and run again on another node ends in the same"
            + " state as an uninterrupted fix")
    void resumesAfterInterruption() {
        Map<String, String> fast = Map.of("SYNC_PARTITIONS", "" + P, "SYNC_HEARTBEAT_INTERVAL_SECONDS", "1");
        Node a = Node.start(TestStack.nodeConfig(fast), false).await();
        Node b = Node.start(TestStack.nodeConfig(fast), false).await();
        try (Http httpA = new Http(a.vertx(), a.httpPort());
                Http httpB = new Http(b.vertx(), b.httpPort())) {
            Stores s = b.stores();
            int n = 150;
            String interrupted = TestStack.unique("cut");
            String whole = TestStack.unique("whole");
            for (String tenant : List.of(interrupted, whole)) {
                for (int i = 0; i < n; i++) {
                    String file = "orphan-" + i;
                    s.blobs()
                            .putBytes(
                                    StoreKeys.blobKey(tenant, StoreKeys.partition(file, P), file),
                                    Buffer.buffer("bytes of " + file),
                                    "text/plain",
                                    Map.of())
                            .await();
                }
                List<ChunkPoint> ghosts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    ghosts.add(ChunkPoint.of(
                            tenant, "ghost-" + i, 0, StoreKeys.partition("ghost-" + i, P), "sha", "m", vector()));
                }
                s.vectors().upsert(ghosts).await();
                assertThat(analyze(httpB, tenant).getJsonArray("issues")).hasSize(2 * n);
            }

            var started = post(
                    httpA,
                    "/api/sync/fix",
                    new JsonObject().put("user_id", interrupted).put("dry_run", false));
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String first = started.bodyAsJsonObject().getString("operation_id");
            while (s.repairs().audits(first, 1000).await().size() < 20) {
                sleep(10);
            }
            a.stop().await();
            int doneBeforeStop = s.repairs().audits(first, 1000).await().size();
            assertThat(doneBeforeStop).as("stopped half way").isLessThan(2 * n);

            // Run again on the other node once the first operation's heartbeat is stale (3 intervals).
            io.vertx.ext.web.client.HttpResponse<Buffer> resumed;
            long deadline = System.currentTimeMillis() + 30_000;
            do {
                sleep(250);
                resumed = post(
                        httpB,
                        "/api/sync/fix",
                        new JsonObject().put("user_id", interrupted).put("dry_run", false));
            } while (resumed.statusCode() == 409 && System.currentTimeMillis() < deadline);
            assertThat(resumed.statusCode()).as(resumed.bodyAsString()).isEqualTo(202);
            JsonObject second = awaitFix(httpB, resumed.bodyAsJsonObject().getString("operation_id"));
            assertThat(second.getJsonObject("result").getLong("failed")).isZero();
            JsonObject reference = fixAndWait(httpB, whole);
            assertThat(reference.getJsonObject("result").getLong("successful")).isEqualTo(2L * n);

            for (String tenant : List.of(interrupted, whole)) {
                assertThat(analyze(httpB, tenant).getJsonArray("issues"))
                        .as(tenant)
                        .isEmpty();
                assertThat(snapshot(s, tenant))
                        .as("nothing left at the original keys or in Qdrant")
                        .isEmpty();
                assertThat(s.repairs().quarantine(tenant, "quarantined", 1000).await())
                        .hasSize(n);
                assertThat(quarantinedObjects(s, tenant))
                        .as("each object quarantined exactly once")
                        .hasSize(n);
            }
            assertThat(quarantinedObjects(s, interrupted).values())
                    .containsExactlyInAnyOrderElementsOf(
                            quarantinedObjects(s, whole).values());
        } finally {
            b.stop().await();
        }
    }

    /** The objects under a tenant's quarantine prefix: key → size. */
    private static Map<String, Long> quarantinedObjects(Stores s, String tenant) {
        Map<String, Long> out = new HashMap<>();
        String token = null;
        do {
            Page<BlobInfo> page = s.blobs()
                    .list(Quarantine.PREFIX + tenant + "/", token, 1000, false)
                    .await();
            page.items().forEach(o -> out.put(o.key(), o.size()));
            token = page.next();
        } while (token != null);
        return out;
    }

    @Test
    @DisplayName("Auto-repair takes only the actions safe without a person: re-embed and quarantine, not a flag")
    void autoRepairIsSafeOnly() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P)), false)
                .await();
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
            s.metadata().remove(f.get(2).id()).await();
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
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A re-embed of content whose text extraction fails is a failed action with the reason; a failed"
            + " extraction is left to a person")
    void extractionFailuresAreNotRepairedAway() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P)), false)
                .await();
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
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Bad input is a 400 naming the field; a fix while the tenant has an operation running is a 409")
    void badInput() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P)), false)
                .await();
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
            var op = new io.trisync.ops.OperationTracker(
                            node.vertx(),
                            node.stores().syncOperations(),
                            new io.trisync.events.EventPublisher(
                                    node.vertx().eventBus(), node.stores().events()),
                            new io.trisync.ops.TimeoutPolicy(300, 10, 300, 7200),
                            java.time.Duration.ofSeconds(30),
                            io.trisync.bus.Membership.of(
                                    node.vertx(), node.config().nodeId()),
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
        } finally {
            node.stop().await();
        }
    }

    private static void assertBad(Http http, JsonObject body, String field) {
        var r = post(http, "/api/sync/fix", body);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        assertThat(r.bodyAsString()).contains(field);
    }

    static JsonObject fixAndWait(Http http, String tenant) {
        var started = post(
                http, "/api/sync/fix", new JsonObject().put("user_id", tenant).put("dry_run", false));
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        return awaitFix(http, started.bodyAsJsonObject().getString("operation_id"));
    }

    static JsonObject awaitFix(Http http, String opId) {
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            var r = http.get("/api/sync/fix/" + opId);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
            JsonObject body = r.bodyAsJsonObject();
            if (!"running".equals(body.getJsonObject("operation").getString("status"))) {
                return body;
            }
            assertThat(System.currentTimeMillis())
                    .as("fix " + opId + " still running")
                    .isLessThan(deadline);
            sleep(100);
        }
    }

    static io.vertx.ext.web.client.HttpResponse<Buffer> post(Http http, String path, JsonObject body) {
        return http.post(path, "application/json", Buffer.buffer(body.encode()));
    }

    static JsonObject analyze(Http http, String tenant) {
        var r = post(http, "/api/sync/analyze", new JsonObject().put("user_id", tenant));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    static Set<String> issues(JsonObject report) {
        Set<String> out = new HashSet<>();
        report.getJsonArray("issues")
                .forEach(
                        i -> out.add(((JsonObject) i).getString("type") + ":" + ((JsonObject) i).getString("file_id")));
        return out;
    }

    /** Everything the three stores hold for a tenant (objects with ETags, points with payload, records with versions). */
    static Set<String> snapshot(Stores s, String tenant) {
        Set<String> out = new TreeSet<>();
        String token = null;
        do {
            Page<BlobInfo> page =
                    s.blobs().list(tenant + "/", token, 1000, false).await();
            page.items().forEach(b -> out.add("s3 " + b.key() + " " + b.etag() + " " + b.size()));
            token = page.next();
        } while (token != null);
        String offset = null;
        do {
            Page<ChunkPoint> page =
                    s.vectors().scroll(tenant, null, offset, 1000).await();
            page.items().forEach(p -> out.add("qdrant " + p.id() + " " + p.contentSha256() + " " + p.model()));
            offset = page.next();
        } while (offset != null);
        String after = null;
        do {
            Page<FileRecord> page =
                    s.metadata().list(FileQuery.tenant(tenant), after, 1000).await();
            page.items()
                    .forEach(r -> out.add("mongo " + r.id() + " " + r.version() + " " + r.size() + " " + r.sha256()
                            + " " + r.status()));
            after = page.next();
        } while (after != null);
        return out;
    }

    static long events(Stores s, String tenant, String type) {
        return s.events().recent(tenant, 1000).await().stream()
                .filter(e -> type.equals(e.type()))
                .count();
    }

    static String key(FileRecord f) {
        return StoreKeys.blobKey(f.tenantId(), f.partition(), f.id());
    }

    static float[] vector() {
        float[] v = new float[384];
        v[0] = 1;
        return v;
    }

    private static ChunkPoint point(FileRecord f, int chunk, String sha, String model) {
        return ChunkPoint.of(f.tenantId(), f.id(), chunk, f.partition(), sha, model, vector());
    }

    private static FileRecord withSha(FileRecord r, String sha256) {
        return new FileRecord(
                r.id(),
                r.tenantId(),
                r.name(),
                r.contentType(),
                r.size(),
                sha256,
                r.status(),
                r.version(),
                r.partition(),
                r.embedding(),
                r.createdAt(),
                r.updatedAt(),
                r.sync());
    }

    /** A copy with another size and status; like a record written by hand, it carries no blob ETag. */
    private static FileRecord with(FileRecord r, long size, FileRecord.Status status) {
        return new FileRecord(
                r.id(),
                r.tenantId(),
                r.name(),
                r.contentType(),
                size,
                r.sha256(),
                status,
                r.version(),
                r.partition(),
                r.embedding(),
                r.createdAt(),
                r.updatedAt(),
                r.sync());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
