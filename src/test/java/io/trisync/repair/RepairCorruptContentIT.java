package io.trisync.repair;

import static io.trisync.repair.RepairFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.Stores;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Content corrupted in place on the embedded S3's disk, behind S3's back (its {@code sha256} metadata
 * and ETag untouched): only a deep scan, which hashes the bytes, sees the checksum mismatch. A fix that
 * cannot repair it must leave it open, not close it on the word of a check that reads no bytes.
 */
@Timeout(300)
class RepairCorruptContentIT {

    @Test
    @DisplayName("Blobs corrupted in place (a byte appended; a byte changed, same size): the deep scan's"
            + " CHECKSUM_MISMATCH stays open after a fix that leaves them to a person, with no issue_resolved,"
            + " nothing counted resolved, and the next deep scan finds nothing new")
    void contentMismatchLeftToPersonStaysOpen() throws Exception {
        Path data = TestStack.tempDir("trisync-corrupt");
        Node node = Node.start(
                        TestStack.config(Map.of(
                                "EMBEDDED_PERSIST", "true", "DATA_DIR", data.toString(), "SYNC_PARTITIONS", "" + P)),
                        false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("corrupt");
            String grown = upload(http, tenant, "grown.txt");
            String flipped = upload(http, tenant, "flipped.txt");
            FileRecord grownRecord = s.metadata().get(grown).await();
            FileRecord flippedRecord = s.metadata().get(flipped).await();

            // Behind S3's back, as a tester did to data/s3/...: one object gets a byte more, the
            // other one byte changed (same size, so only its bytes tell).
            Files.write(objectFile(data, grownRecord), new byte[] {'!'}, StandardOpenOption.APPEND);
            try (RandomAccessFile file =
                    new RandomAccessFile(objectFile(data, flippedRecord).toFile(), "rw")) {
                int first = file.read();
                file.seek(0);
                file.write(first ^ 0x20);
            }

            // A download of the corrupted bytes is never answered as the file: cut short once a piece
            // was sent, answered 500 with the JSON body when the one piece held for the hash was all.
            for (String corrupted : List.of(grown, flipped)) {
                try {
                    var refused = http.get("/api/files/" + corrupted + "/content?user_id=" + tenant);
                    assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(500);
                } catch (HttpClosedException cutShort) {
                    // Cut short: the client never took the bytes for the file.
                }
            }

            Set<String> found =
                    Set.of("SIZE_MISMATCH:" + grown, "CHECKSUM_MISMATCH:" + grown, "CHECKSUM_MISMATCH:" + flipped);
            assertThat(issues(deepScan(http, tenant))).isEqualTo(found);
            long detected = events(s, tenant, "sync.issue_detected");
            assertThat(detected).isEqualTo(3);

            JsonObject fix = fixAndWait(http, tenant);
            assertThat(fix.getJsonObject("operation").getString("status")).isEqualTo("completed");
            JsonObject result = fix.getJsonObject("result");
            assertThat(result.getLong("attempted")).as(result.encodePrettily()).isEqualTo(2);
            assertThat(result.getLong("left_to_person"))
                    .as(result.encodePrettily())
                    .isEqualTo(2);
            assertThat(result.getLong("successful")).as(result.encodePrettily()).isZero();
            assertThat(result.getLong("already_resolved"))
                    .as(result.encodePrettily())
                    .isZero();
            assertThat(result.getLong("issues_resolved"))
                    .as(result.encodePrettily())
                    .isZero();
            fix.getJsonArray("actions").forEach(a -> {
                JsonObject action = (JsonObject) a;
                assertThat(action.getString("action")).isEqualTo("VERIFY_CONTENT");
                assertThat(action.getString("status")).isEqualTo("left_to_person");
            });

            // The fix's events are logged before it completes: each issue reported failed, none resolved.
            List<Event> log = s.events().recent(tenant, 1000).await();
            assertThat(typesOf(log, "sync.issue_failed")).isEqualTo(found);
            assertThat(typesOf(log, "sync.issue_resolved")).isEmpty();
            Set<String> open = new HashSet<>();
            for (FileRecord r : List.of(grownRecord, flippedRecord)) {
                for (IssueRecord issue : s.issues().ofFile(tenant, r.id()).await()) {
                    open.add(issue.type() + ":" + issue.fileId());
                }
            }
            assertThat(open).as("issues open after the fix").isEqualTo(found);
            assertThat(s.metadata().get(flipped).await().sync().issues()).containsExactly("CHECKSUM_MISMATCH");
            assertThat(s.metadata().get(flipped).await().sync().verdict()).isEqualTo("error");

            // The next deep scan finds the same issues, still open: nothing detected anew.
            assertThat(issues(deepScan(http, tenant))).isEqualTo(found);
            assertThat(events(s, tenant, "sync.issue_detected")).isEqualTo(detected);
            assertThat(events(s, tenant, "sync.issue_resolved")).isZero();

            // A full scan's listings cannot see a checksum only the bytes show: it hashes the bytes of
            // files with such an issue open, so the issue stays open (it used to be closed, then
            // found again by the next deep scan) ...
            assertThat(issues(scan(http, tenant, "full"))).isEqualTo(found);
            assertThat(events(s, tenant, "sync.issue_resolved")).isZero();
            assertThat(s.issues().ofFile(tenant, flipped).await()).hasSize(1);
            // ... and is closed once the bytes are right again. A full scan reads them again only when
            // the listing shows the object changed (its last-modified second, kept with the issue): the
            // restore moves it two seconds on, as a write a second or more after the corruption would
            // (a restore within the corruption's second would be read again only by a deep scan).
            Path flippedFile = objectFile(data, flippedRecord);
            FileTime corruptedAt = Files.getLastModifiedTime(flippedFile);
            try (RandomAccessFile file = new RandomAccessFile(flippedFile.toFile(), "rw")) {
                int first = file.read();
                file.seek(0);
                file.write(first ^ 0x20);
            }
            Files.setLastModifiedTime(flippedFile, FileTime.fromMillis(corruptedAt.toMillis() + 2_000));
            assertThat(issues(scan(http, tenant, "full")))
                    .isEqualTo(Set.of("SIZE_MISMATCH:" + grown, "CHECKSUM_MISMATCH:" + grown));
            assertThat(typesOf(s.events().recent(tenant, 1000).await(), "sync.issue_resolved"))
                    .isEqualTo(Set.of("CHECKSUM_MISMATCH:" + flipped));
            assertThat(s.issues().ofFile(tenant, flipped).await()).isEmpty();
            var whole = http.get("/api/files/" + flipped + "/content?user_id=" + tenant);
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.bodyAsString()).isEqualTo(Fixtures.prose(120) + " flipped.txt");
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A file left to a person for its corrupted bytes stays error, with its mark and its"
            + " CHECKSUM_MISMATCH, after a fix narrowed to another issue type of the file (STALE_VECTORS,"
            + " as a search recorded it) whose check reads no bytes")
    void narrowedFixKeepsThePersonsMark() throws Exception {
        Path data = TestStack.tempDir("trisync-narrowed");
        Node node = Node.start(
                        TestStack.config(Map.of(
                                "EMBEDDED_PERSIST", "true", "DATA_DIR", data.toString(), "SYNC_PARTITIONS", "" + P)),
                        false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("narrowed");
            String flipped = upload(http, tenant, "flipped.txt");
            FileRecord record = s.metadata().get(flipped).await();
            try (RandomAccessFile file =
                    new RandomAccessFile(objectFile(data, record).toFile(), "rw")) {
                int first = file.read();
                file.seek(0);
                file.write(first ^ 0x20);
            }
            assertThat(issues(deepScan(http, tenant))).isEqualTo(Set.of("CHECKSUM_MISMATCH:" + flipped));
            assertThat(fixAndWait(http, tenant).getJsonObject("result").getLong("left_to_person"))
                    .isEqualTo(1);
            assertThat(s.metadata().get(flipped).await().sync().attention()).isNotNull();

            // A second issue of the file, of a kind a check without the bytes sees (a search recorded
            // STALE_VECTORS for such a file until the sixteenth session).
            s.issues()
                    .apply(
                            List.of(new IssueRecord(
                                    tenant,
                                    record.partition(),
                                    flipped,
                                    record.name(),
                                    "STALE_VECTORS",
                                    new JsonObject().put("found_by", "search"),
                                    Instant.now().toString(),
                                    null)),
                            List.of())
                    .await();
            var started = post(
                    http,
                    "/api/sync/fix",
                    new JsonObject()
                            .put("user_id", tenant)
                            .put("dry_run", false)
                            .put("issue_types", new JsonArray().add("STALE_VECTORS")));
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            JsonObject result = awaitFix(http, started.bodyAsJsonObject().getString("operation_id"))
                    .getJsonObject("result");
            assertThat(result.getLong("issues_resolved"))
                    .as(result.encodePrettily())
                    .isEqualTo(1);

            FileRecord after = s.metadata().get(flipped).await();
            assertThat(after.sync().verdict())
                    .as("verdict after the narrowed fix")
                    .isEqualTo("error");
            assertThat(after.sync().attention()).as("the person's mark").isNotNull();
            assertThat(after.sync().issues()).containsExactly("CHECKSUM_MISMATCH");
            assertThat(s.issues().ofFile(tenant, flipped).await())
                    .extracting(IssueRecord::type)
                    .containsExactly("CHECKSUM_MISMATCH");
        } finally {
            node.stop().await();
        }
    }

    private static String upload(Http http, String tenant, String name) {
        return http.upload(tenant, name, "text/plain", utf8(Fixtures.prose(120) + " " + name), null)
                .bodyAsJsonObject()
                .getString("id");
    }

    private static JsonObject deepScan(Http http, String tenant) {
        return scan(http, tenant, "deep");
    }

    private static JsonObject scan(Http http, String tenant, String mode) {
        var r = post(
                http,
                "/api/sync/analyze",
                new JsonObject().put("user_id", tenant).put("mode", mode));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /** The file the embedded S3's filesystem store keeps the object of {@code r} in. */
    private static Path objectFile(Path data, FileRecord r) throws IOException {
        try (Stream<Path> files = Files.walk(data.resolve("s3"))) {
            return files.filter(p -> p.endsWith(key(r))).findFirst().orElseThrow();
        }
    }

    /** "TYPE:file" of each event of {@code type} in the log. */
    private static Set<String> typesOf(List<Event> log, String type) {
        Set<String> out = new HashSet<>();
        log.stream()
                .filter(e -> type.equals(e.type()))
                .forEach(e -> out.add(e.data().getString("type") + ":" + e.fileId()));
        return out;
    }
}
