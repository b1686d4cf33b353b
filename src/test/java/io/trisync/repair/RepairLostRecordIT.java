package io.trisync.repair;

import static io.trisync.repair.RepairFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.concurrent.MemoryBudget;
import io.trisync.failure.Failure;
import io.trisync.scan.LostRecord;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A file's record deleted by hand (a mistake, a bad migration) while its object and points remain is
 * rebuilt from its committed upload, not its object quarantined; unless the file was deleted through
 * the API, or the object no longer holds the upload's bytes (docs/design.md, "A lost record is
 * restored from its upload (seventeenth session)").
 */
@Timeout(300)
class RepairLostRecordIT {

    @Test
    @DisplayName("A record deleted by hand is restored from its upload as it was: the scan says so naming the"
            + " operation, the dry run plans it, the fix writes it and re-embeds the points it lacks; GET, download"
            + " and search find the file again, nothing is quarantined, a second scan is clean")
    void lostRecordIsRestoredFromItsUpload() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("lostrec");
            Map<String, byte[]> bytes = new HashMap<>();
            Map<String, FileRecord> was = new HashMap<>();
            for (String name : List.of("contract.txt", "letters.md", "kept.txt")) {
                byte[] content = utf8(Fixtures.prose(360) + " " + name);
                String id = http.upload(tenant, name, "text/plain", content, null)
                        .bodyAsJsonObject()
                        .getString("id");
                bytes.put(name, content);
                was.put(name, s.metadata().get(id).await());
            }
            FileRecord a = was.get("contract.txt");
            FileRecord b = was.get("letters.md");
            assertThat(b.embedding().chunks()).isGreaterThan(1);
            // Both records removed by hand; b has also lost one chunk's point.
            removeRecord(node, a.id());
            removeRecord(node, b.id());
            s.vectors().delete(List.of(StoreKeys.chunkPointId(b.id(), 1))).await();
            var missing = http.get("/api/files/" + a.id() + "?user_id=" + tenant);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.bodyAsJsonObject().getString("message"))
                    .as("a GET says what became of it")
                    .contains("record is missing though its upload committed", "RESTORE_RECORD");

            JsonObject report = analyze(http, tenant);
            assertThat(issues(report))
                    .containsExactlyInAnyOrder(
                            "ORPHAN_BLOB:" + a.id(),
                            "ORPHAN_VECTORS:" + a.id(),
                            "ORPHAN_BLOB:" + b.id(),
                            "ORPHAN_VECTORS:" + b.id());
            for (FileRecord f : List.of(a, b)) {
                LostRecord lost = LostRecord.of(orphanBlob(report, f.id()).getJsonObject("details"));
                assertThat(lost.restorable()).as("%s restorable", f.id()).isTrue();
                assertThat(lost.operation())
                        .isEqualTo(s.operations().uploadOf(f.id()).await().id());
                assertThat(lost.name()).isEqualTo(f.name());
            }

            Set<String> before = snapshot(s, tenant);
            var dry = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
            assertThat(dry.statusCode()).as(dry.bodyAsString()).isEqualTo(200);
            assertThat(planned(dry.bodyAsJsonObject()))
                    .containsExactlyInAnyOrder(
                            "RESTORE_RECORD:" + a.id() + "[ORPHAN_BLOB, ORPHAN_VECTORS]",
                            "RESTORE_RECORD:" + b.id() + "[ORPHAN_BLOB, ORPHAN_VECTORS]");
            dry.bodyAsJsonObject().getJsonArray("actions").forEach(x -> assertThat(
                            ((JsonObject) x).getString("file_name"))
                    .as("the name the restore brings back")
                    .isIn("contract.txt", "letters.md"));
            assertThat(snapshot(s, tenant)).as("a dry run touches no store").isEqualTo(before);

            JsonObject fix = fixAndWait(http, tenant);
            JsonObject totals = fix.getJsonObject("result");
            assertThat(totals.getLong("failed")).as(fix.encodePrettily()).isZero();
            // Two records restored, and b's missing point re-embedded after its restore.
            assertThat(totals.getLong("attempted")).as(fix.encodePrettily()).isEqualTo(3);
            assertThat(totals.getLong("successful")).isEqualTo(3);
            assertThat(totals.getLong("issues_resolved")).isEqualTo(4);
            Set<String> taken = new TreeSet<>();
            fix.getJsonArray("actions")
                    .forEach(x -> taken.add(((JsonObject) x).getString("action") + ":"
                            + ((JsonObject) x).getString("file_id") + ":" + ((JsonObject) x).getString("status")));
            assertThat(taken)
                    .containsExactlyInAnyOrder(
                            "RESTORE_RECORD:" + a.id() + ":done",
                            "RESTORE_RECORD:" + b.id() + ":done",
                            "REEMBED:" + b.id() + ":done");

            for (String name : List.of("contract.txt", "letters.md")) {
                FileRecord old = was.get(name);
                FileRecord now = s.metadata().get(old.id()).await();
                // The re-embed of b's missing point recorded its embedding (a patch: one version more).
                assertSameRecord(now, old, name.equals("letters.md") ? 1 : 0);
                IngestOperation upload = s.operations().uploadOf(old.id()).await();
                assertThat(now.createdAt()).as("created when its upload began").isEqualTo(upload.createdAt());
                assertThat(Duration.between(now.createdAt(), old.createdAt()))
                        .isBetween(Duration.ZERO, Duration.ofSeconds(30));
                assertThat(now.sync().verdict()).isEqualTo("synced");
                assertThat(s.vectors().count(tenant, old.id()).await())
                        .isEqualTo(old.embedding().chunks());

                var got = http.get("/api/files/" + old.id() + "?user_id=" + tenant);
                assertThat(got.statusCode()).as(got.bodyAsString()).isEqualTo(200);
                assertThat(got.bodyAsJsonObject().getString("name")).isEqualTo(name);
                var download = http.get("/api/files/" + old.id() + "/content?user_id=" + tenant);
                assertThat(download.statusCode()).as(download.bodyAsString()).isEqualTo(200);
                assertThat(download.body().getBytes()).isEqualTo(bytes.get(name));
                var found = post(
                        http,
                        "/api/search",
                        new JsonObject()
                                .put("user_id", tenant)
                                .put("query", "contracts signed with suppliers")
                                .put("file_ids", new JsonArray().add(old.id())));
                assertThat(found.statusCode()).as(found.bodyAsString()).isEqualTo(200);
                assertThat(found.bodyAsJsonObject().getJsonArray("results"))
                        .as(found.bodyAsString())
                        .hasSize(1);
                assertThat(found.bodyAsJsonObject().getInteger("excluded")).isZero();
            }
            assertThat(quarantinedObjects(s, tenant)).as("nothing quarantined").isEmpty();
            assertThat(analyze(http, tenant).getJsonArray("issues"))
                    .as("a second scan is clean")
                    .isEmpty();
        }
    }

    @Test
    @DisplayName("A file deleted through the API whose record was then removed by hand is not brought back:"
            + " the scan names its delete, the object is quarantined as before")
    void fileDeletedThroughTheApiIsNotRestored() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("lostdel");
            byte[] content = utf8(Fixtures.prose(200) + " deleted");
            String id = http.upload(tenant, "gone.txt", "text/plain", content, null)
                    .bodyAsJsonObject()
                    .getString("id");
            FileRecord was = s.metadata().get(id).await();
            var deleted = http.delete("/api/files/" + id + "?user_id=" + tenant);
            assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);
            // Its object put back (a restore of the bucket, say), then its tombstone removed by hand.
            s.blobs()
                    .putBytes(key(was), Buffer.buffer(content), "text/plain", Map.of("sha256", was.sha256()))
                    .await();
            removeRecord(node, id);

            JsonObject report = analyze(http, tenant);
            assertThat(issues(report)).containsExactly("ORPHAN_BLOB:" + id);
            LostRecord lost = LostRecord.of(orphanBlob(report, id).getJsonObject("details"));
            assertThat(lost.restorable()).isFalse();
            assertThat(lost.refused()).contains("deleted (operation ");

            var dry = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
            assertThat(planned(dry.bodyAsJsonObject())).containsExactly("QUARANTINE_BLOB:" + id + "[ORPHAN_BLOB]");
            JsonObject totals = fixAndWait(http, tenant).getJsonObject("result");
            assertThat(totals.getLong("successful")).isEqualTo(1);
            assertThat(recordOf(s, id)).as("not restored").isNull();
            assertThat(quarantinedObjects(s, tenant)).hasSize(1);
            var gone = http.get("/api/files/" + id + "?user_id=" + tenant);
            assertThat(gone.statusCode()).isEqualTo(404);
            assertThat(gone.bodyAsJsonObject().getString("message")).doesNotContain("RESTORE_RECORD");
        }
    }

    @Test
    @DisplayName("An object whose bytes are not its upload's is not restored: new sha256 metadata is refused by"
            + " the scan (quarantined); bytes changed under the upload's metadata fail the fix when it hashes them,"
            + " leaving object and points, and a deep scan then refuses it")
    void changedBytesAreNotRestored() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("lostbytes");
            FileRecord relabelled = upload(http, s, tenant, "relabelled.txt");
            FileRecord corrupted = upload(http, s, tenant, "corrupted.txt");
            removeRecord(node, relabelled.id());
            removeRecord(node, corrupted.id());
            // Other bytes of the same length: written with their own sha256 metadata, or under the upload's.
            byte[] other = sameLength(relabelled.size(), "overwritten");
            s.blobs()
                    .putBytes(
                            key(relabelled),
                            Buffer.buffer(other),
                            "text/plain",
                            Map.of("sha256", Fixtures.sha256(other)))
                    .await();
            byte[] damaged = sameLength(corrupted.size(), "damaged");
            s.blobs()
                    .putBytes(
                            key(corrupted), Buffer.buffer(damaged), "text/plain", Map.of("sha256", corrupted.sha256()))
                    .await();
            long corruptedPoints = s.vectors().count(tenant, corrupted.id()).await();

            JsonObject report = analyze(http, tenant);
            assertThat(LostRecord.of(orphanBlob(report, relabelled.id()).getJsonObject("details"))
                            .refused())
                    .contains("not the content its upload");
            assertThat(LostRecord.of(orphanBlob(report, corrupted.id()).getJsonObject("details"))
                            .restorable())
                    .as("its metadata still says the upload's sha256")
                    .isTrue();
            var dry = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
            assertThat(planned(dry.bodyAsJsonObject()))
                    .containsExactlyInAnyOrder(
                            "QUARANTINE_BLOB:" + relabelled.id() + "[ORPHAN_BLOB]",
                            "DELETE_POINTS:" + relabelled.id() + "[ORPHAN_VECTORS]",
                            "RESTORE_RECORD:" + corrupted.id() + "[ORPHAN_BLOB, ORPHAN_VECTORS]");

            JsonObject fix = fixAndWait(http, tenant);
            JsonObject failed = fix.getJsonArray("actions").stream()
                    .map(x -> (JsonObject) x)
                    .filter(x -> "RESTORE_RECORD".equals(x.getString("action")))
                    .findFirst()
                    .orElseThrow();
            assertThat(failed.getString("status")).isEqualTo("failed");
            assertThat(failed.getString("reason")).contains("are not the content its upload");
            assertThat(recordOf(s, relabelled.id())).isNull();
            assertThat(recordOf(s, corrupted.id()))
                    .as("not restored over other bytes")
                    .isNull();
            assertThat(s.blobs().getBytes(key(corrupted)).await().getBytes()).isEqualTo(damaged);
            assertThat(s.vectors().count(tenant, corrupted.id()).await()).isEqualTo(corruptedPoints);
            assertThat(quarantinedObjects(s, tenant)).hasSize(1);

            // A deep scan hashes the bytes as the fix did: quarantined by the next fix.
            var deep = post(
                    http,
                    "/api/sync/analyze",
                    new JsonObject().put("user_id", tenant).put("mode", "deep"));
            assertThat(deep.statusCode()).as(deep.bodyAsString()).isEqualTo(200);
            assertThat(LostRecord.of(orphanBlob(deep.bodyAsJsonObject(), corrupted.id())
                                    .getJsonObject("details"))
                            .refused())
                    .contains("not the content its upload");
            var again = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
            assertThat(planned(again.bodyAsJsonObject()))
                    .containsExactlyInAnyOrder(
                            "QUARANTINE_BLOB:" + corrupted.id() + "[ORPHAN_BLOB]",
                            "DELETE_POINTS:" + corrupted.id() + "[ORPHAN_VECTORS]");
        }
    }

    @Test
    @DisplayName("A record written while the restore is on its way (the tombstone a delete leaves) is not"
            + " overwritten: the restore's insert fails, the action says so, the file stays deleted")
    void recordWrittenMeanwhileIsNotOverwritten() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("lostrace");
            FileRecord was = restorableOrphan(http, node, tenant, "raced.txt");
            JsonObject fix;
            try (HeldBudget budget = new HeldBudget(node)) {
                String opId = startFix(http, tenant);
                budget.awaitWaiter();
                s.metadata()
                        .upsert(with(was, was.size(), FileRecord.Status.DELETED))
                        .await();
                budget.close();
                fix = awaitFix(http, opId);
            }
            JsonObject action = fix.getJsonArray("actions").getJsonObject(0);
            assertThat(action.getString("action")).isEqualTo("RESTORE_RECORD");
            assertThat(action.getString("status")).isEqualTo("failed");
            assertThat(action.getString("reason")).contains("written meanwhile");
            assertThat(s.metadata().get(was.id()).await().status())
                    .as("the tombstone stays")
                    .isEqualTo(FileRecord.Status.DELETED);
        }
    }

    @Test
    @DisplayName("A tenant erased while the restore is on its way gets no record back: the erasure cancels the"
            + " repair and removes the object the restore was to read (the restore also checks the erasure and"
            + " the repair's end again just before its insert, for an erasure that comes after its read)")
    void noRestoreIntoAnErasedTenant() {
        Node node = RepairFixture.node();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("losterase");
            FileRecord was = restorableOrphan(http, node, tenant, "erased.txt");
            try (HeldBudget budget = new HeldBudget(node)) {
                startFix(http, tenant);
                budget.awaitWaiter();
                var erasing = http.delete("/api/tenants/" + tenant);
                assertThat(erasing.statusCode()).as(erasing.bodyAsString()).isEqualTo(202);
                Await.until("the erasure to end", 60_000, () -> "erased"
                        .equals(http.get("/api/tenants/" + tenant)
                                .bodyAsJsonObject()
                                .getString("state")));
                budget.close();
                // The erasure removed the repair's operation with the rest: the restore's end is seen by
                // its share of memory given back, which it holds until its write has been answered.
                budget.awaitReturned();
            }
            assertThat(recordOf(node.stores(), was.id()))
                    .as("no record of the erased tenant")
                    .isNull();
        }
    }

    /** A file uploaded, its record removed by hand, and scanned: its ORPHAN_BLOB says it can be restored. */
    private static FileRecord restorableOrphan(Http http, Node node, String tenant, String name) {
        FileRecord was = upload(http, node.stores(), tenant, name);
        removeRecord(node, was.id());
        assertThat(LostRecord.of(orphanBlob(analyze(http, tenant), was.id()).getJsonObject("details"))
                        .restorable())
                .isTrue();
        return was;
    }

    private static String startFix(Http http, String tenant) {
        var started = post(
                http, "/api/sync/fix", new JsonObject().put("user_id", tenant).put("dry_run", false));
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        return started.bodyAsJsonObject().getString("operation_id");
    }

    /**
     * The process's memory budget held whole: a restore past its checks waits for its share before it
     * reads the object and writes the record, so a test acts in that window ordered by the wait, not a
     * clock. Closing gives the budget back.
     */
    private static final class HeldBudget implements AutoCloseable {

        private final Promise<Void> held = Promise.promise();
        private final int waiting = MemoryBudget.HEAP.waiting();
        private final long used = MemoryBudget.HEAP.used();

        HeldBudget(Node node) {
            Promise<Void> holding = Promise.promise();
            node.vertx()
                    .runOnContext(
                            v -> MemoryBudget.HEAP.holding(Runtime.getRuntime().maxMemory(), () -> {
                                holding.complete();
                                return held.future();
                            }));
            holding.future().await();
        }

        void awaitWaiter() {
            Await.until("the restore to wait for its memory", 30_000, () -> MemoryBudget.HEAP.waiting() > waiting);
        }

        /** Waits until whoever waited has run and given its share back. */
        void awaitReturned() {
            Await.until(
                    "the restore to give its memory back",
                    30_000,
                    () -> MemoryBudget.HEAP.waiting() <= waiting && MemoryBudget.HEAP.used() <= used);
        }

        @Override
        public void close() {
            held.tryComplete();
        }
    }

    private static FileRecord upload(Http http, Stores s, String tenant, String name) {
        String id = http.upload(tenant, name, "text/plain", utf8(Fixtures.prose(200) + " " + name), null)
                .bodyAsJsonObject()
                .getString("id");
        return s.metadata().get(id).await();
    }

    private static byte[] sameLength(long size, String word) {
        byte[] out = new byte[(int) size];
        byte[] text = utf8(Fixtures.prose(400) + " " + word);
        System.arraycopy(text, text.length - out.length, out, 0, out.length);
        return out;
    }

    /** The fields a restore knows, as the upload wrote them (its verdict, times and later edits aside). */
    private static void assertSameRecord(FileRecord now, FileRecord old, int patched) {
        assertThat(now.tenantId()).isEqualTo(old.tenantId());
        assertThat(now.name()).isEqualTo(old.name());
        assertThat(now.contentType()).isEqualTo(old.contentType());
        assertThat(now.size()).isEqualTo(old.size());
        assertThat(now.sha256()).isEqualTo(old.sha256());
        assertThat(now.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(now.version()).isEqualTo(old.version() + patched);
        assertThat(now.partition()).isEqualTo(old.partition());
        assertThat(now.embedding()).isEqualTo(old.embedding());
        assertThat(now.blobEtag()).isEqualTo(old.blobEtag());
        assertThat(now.labels()).isEqualTo(old.labels());
        assertThat(now.history()).isEqualTo(old.history());
    }

    /** The plan of a dry run as "ACTION:file[ISSUES]". */
    private static Set<String> planned(JsonObject plan) {
        Set<String> out = new TreeSet<>();
        plan.getJsonArray("actions").forEach(x -> {
            JsonObject a = (JsonObject) x;
            out.add(a.getString("action") + ":" + a.getString("file_id")
                    + a.getJsonArray("issues").getList());
        });
        return out;
    }

    private static JsonObject orphanBlob(JsonObject report, String fileId) {
        return report.getJsonArray("issues").stream()
                .map(x -> (JsonObject) x)
                .filter(i -> "ORPHAN_BLOB".equals(i.getString("type")) && fileId.equals(i.getString("file_id")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ORPHAN_BLOB of " + fileId + " in " + report.encode()));
    }

    private static FileRecord recordOf(Stores s, String id) {
        return s.metadata()
                .get(id)
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(e))
                .await();
    }

    /** Deletes the file's record with a raw MongoDB client, as an operator's mistake would. */
    private static void removeRecord(Node node, String id) {
        MongoClient client = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            assertThat(client.removeDocument("files", new JsonObject().put("_id", id))
                            .await()
                            .getRemovedCount())
                    .isEqualTo(1);
        } finally {
            client.close().await();
        }
    }
}
