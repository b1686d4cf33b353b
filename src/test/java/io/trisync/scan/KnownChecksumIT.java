package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.BlobInfo;
import io.trisync.store.FileRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A full scan keeps an open {@code CHECKSUM_MISMATCH} whose object is unchanged without reading its
 * bytes again (the issue names the object it hashed: ETag, size, last-modified time), and reads them
 * again once the object was written: a repaired object closes the issue. S3 reads are counted with
 * the node's own {@code /metrics}.
 */
@Timeout(240)
class KnownChecksumIT {

    private static final String GETS = "trisync_store_request_duration_seconds_count";

    @Test
    @DisplayName("Two full scans of a tenant with one corrupted file read none of its bytes; after the object is"
            + " written again, the next full scan reads it and closes the issue")
    void unchangedCorruptObjectIsNotReadAgain() throws Exception {
        Path data = TestStack.tempDir("trisync-known-checksum");
        Node node = Node.start(
                        TestStack.config(Map.of(
                                "EMBEDDED_PERSIST",
                                "true",
                                "DATA_DIR",
                                data.toString(),
                                "SYNC_PARTITIONS",
                                "4",
                                "METRICS_STORE_REFRESH_SECONDS",
                                "0")),
                        false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("known");
            String text = Fixtures.prose(200) + " corrupted";
            String corrupted = upload(http, tenant, "corrupted.txt", text);
            upload(http, tenant, "healthy.txt", Fixtures.prose(200) + " healthy");
            FileRecord record = s.metadata().get(corrupted).await();
            String key = StoreKeys.blobKey(tenant, record.partition(), corrupted);

            // One byte changed behind S3's back (same size, its ETag and sha256 metadata untouched), an
            // hour ago: only the bytes show it.
            Path file = objectFile(data, key);
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                int first = raf.read();
                raf.seek(0);
                raf.write(first ^ 0x20);
            }
            Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

            assertThat(issues(scan(http, tenant, "deep"))).containsExactly("CHECKSUM_MISMATCH:" + corrupted);
            IssueRecord issue = s.issues().ofFile(tenant, corrupted).await().get(0);
            assertThat(issue.details().getJsonObject("object"))
                    .as("the object the deep scan hashed, named on the issue")
                    .isNotNull();
            long detected = events(s, tenant, "sync.issue_detected");

            for (int i = 0; i < 2; i++) {
                double before = gets(http);
                assertThat(issues(scan(http, tenant, "full")))
                        .as("full scan %s", i + 1)
                        .containsExactly("CHECKSUM_MISMATCH:" + corrupted);
                assertThat(gets(http) - before)
                        .as("S3 GETs of full scan %s (the object is unchanged)", i + 1)
                        .isZero();
            }
            assertThat(s.issues().ofFile(tenant, corrupted).await()).hasSize(1);
            assertThat(events(s, tenant, "sync.issue_detected")).isEqualTo(detected);
            assertThat(events(s, tenant, "sync.issue_resolved")).isZero();

            // The object written again with the right bytes (same ETag and size: only its time moved).
            BlobInfo head = s.blobs().head(key).await();
            s.blobs()
                    .putBytes(key, Buffer.buffer(Fixtures.utf8(text)), head.contentType(), head.metadata())
                    .await();
            double before = gets(http);
            assertThat(issues(scan(http, tenant, "full"))).isEmpty();
            assertThat(gets(http) - before)
                    .as("S3 GETs of the full scan after the object was written")
                    .isEqualTo(1);
            assertThat(s.issues().ofFile(tenant, corrupted).await()).isEmpty();
            assertThat(events(s, tenant, "sync.issue_resolved")).isEqualTo(1);
        } finally {
            node.stop().await();
        }
    }

    private static String upload(Http http, String tenant, String name, String text) {
        var r = http.upload(tenant, name, "text/plain", Fixtures.utf8(text), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static JsonObject scan(Http http, String tenant, String mode) {
        var r = http.post(
                "/api/sync/analyze",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("mode", mode)
                        .encode()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /** "TYPE:file" of each issue of a scan report. */
    private static List<String> issues(JsonObject report) {
        return report.getJsonArray("issues").stream()
                .map(i -> (JsonObject) i)
                .map(i -> i.getString("type") + ":" + i.getString("file_id"))
                .toList();
    }

    private static long events(Stores s, String tenant, String type) {
        return s.events().recent(tenant, 1000).await().stream()
                .filter(e -> type.equals(e.type()))
                .count();
    }

    /** S3 GetObject requests this node has made so far, from its {@code /metrics}. */
    private static double gets(Http http) {
        var r = http.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return r.bodyAsString()
                .lines()
                .filter(line -> line.startsWith(GETS + "{")
                        && line.contains("store=\"s3\"")
                        && line.contains("operation=\"GetObject\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    /** The file the embedded S3's filesystem store keeps object {@code key} in. */
    private static Path objectFile(Path data, String key) throws Exception {
        try (Stream<Path> files = Files.walk(data.resolve("s3"))) {
            return files.filter(p -> p.endsWith(key)).findFirst().orElseThrow();
        }
    }
}
