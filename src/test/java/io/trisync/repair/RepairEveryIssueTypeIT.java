package io.trisync.repair;

import static io.trisync.repair.RepairFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** End to end on the embedded stack: ingest, damage every way through the raw clients, scan, dry-run, fix, scan, restore. */
@Timeout(300)
class RepairEveryIssueTypeIT {

    /** An orphan object's file id (one of trisync's form: another key would be a foreign object, never repaired). */
    private static final String ORPHAN = Fixtures.fileId("orphan-object");

    @Test
    @DisplayName("Every issue type: the dry run plans exactly the expected actions and touches nothing; the fix"
            + " leaves the tenant synced except the files for a person; quarantined objects restore byte for"
            + " byte; a second fix changes nothing")
    void repairsEveryIssueType() {
        Node node = RepairFixture.node();
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
            // f9: the record is gone (orphan blob and orphan points): its upload rebuilds it. f10: deleted, but
            // blob and points remain.
            s.metadata().remove(f.get(9).id()).await();
            s.metadata()
                    .upsert(with(f.get(10), f.get(10).size(), FileRecord.Status.DELETED))
                    .await();
            // An orphan object and orphan points of files trisync never had.
            byte[] orphanBytes = utf8("left behind by hand");
            String orphanKey = StoreKeys.blobKey(tenant, StoreKeys.partition(ORPHAN, P), ORPHAN);
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
                    "ORPHAN_BLOB:" + ORPHAN,
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
                            "RESTORE_RECORD:" + f.get(9).id(),
                            "QUARANTINE_BLOB:" + f.get(10).id(),
                            "DELETE_POINTS:" + f.get(10).id(),
                            "QUARANTINE_BLOB:" + ORPHAN,
                            "DELETE_POINTS:ghost-file");
            assertThat(plan.getJsonObject("counts").getInteger("actions")).isEqualTo(15);
            assertThat(snapshot(s, tenant)).as("a dry run touches no store").isEqualTo(before);

            // The fix.
            JsonObject result = fixAndWait(http, tenant);
            assertThat(result.getJsonObject("operation").getString("status")).isEqualTo("completed");
            JsonObject totals = result.getJsonObject("result");
            assertThat(totals.getLong("attempted")).isEqualTo(15);
            assertThat(totals.getLong("left_to_person")).isEqualTo(2);
            assertThat(totals.getLong("failed")).as(totals.encodePrettily()).isZero();
            // f8's re-embed is not taken: putting its record's sha256 back made its vectors current again.
            assertThat(totals.getLong("successful")).isEqualTo(12);
            assertThat(totals.getLong("already_resolved")).isEqualTo(1);
            JsonArray audit = result.getJsonArray("actions");
            assertThat(audit).hasSize(15);
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
            assertThat(byFile.keySet()).containsExactlyInAnyOrder(f.get(10).id(), ORPHAN);
            assertThat(s.metadata().get(f.get(9).id()).await().name())
                    .as("f9's record rebuilt from its upload")
                    .isEqualTo("f9.txt");
            assertThat(s.blobs().getBytes(key(f.get(9))).await().getBytes())
                    .isEqualTo(original.get(f.get(9).id()));
            assertThat(s.blobs()
                            .head(orphanKey)
                            .transform(ar -> Future.succeededFuture(ar.succeeded()))
                            .await())
                    .isFalse();

            // A second fix changes nothing.
            Set<String> settled = snapshot(s, tenant);
            JsonObject again = fixAndWait(http, tenant).getJsonObject("result");
            assertThat(again.getLong("successful")).isZero();
            assertThat(again.getLong("failed")).isZero();
            assertThat(again.getLong("left_to_person")).isEqualTo(2);
            assertThat(snapshot(s, tenant)).isEqualTo(settled);

            for (String file : List.of(f.get(10).id(), ORPHAN)) {
                var restored = http.post(
                        "/api/sync/quarantine/" + byFile.get(file) + "/restore", "application/json", Buffer.buffer());
                assertThat(restored.statusCode()).as(restored.bodyAsString()).isEqualTo(200);
            }
            assertThat(s.blobs().getBytes(key(f.get(10))).await().getBytes())
                    .isEqualTo(original.get(f.get(10).id()));
            assertThat(s.blobs().getBytes(orphanKey).await().getBytes()).isEqualTo(orphanBytes);
            assertThat(s.blobs().head(orphanKey).await().metadata())
                    .containsEntry("origin", "manual")
                    .hasSize(1);
            var twice = http.post(
                    "/api/sync/quarantine/" + byFile.get(ORPHAN) + "/restore", "application/json", Buffer.buffer());
            assertThat(twice.statusCode()).isEqualTo(409);
        }
    }
}
