package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.scan.Listings.Blob;
import io.trisync.scan.Listings.Meta;
import io.trisync.scan.Listings.Partition;
import io.trisync.scan.Listings.Version;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KnownContentTest {

    private static final String RECORDED = "a".repeat(64);
    private static final String ACTUAL = "b".repeat(64);
    private static final Version OBJECT = Version.of("\"etag-1\"", 10, Instant.parse("2026-12-07T01:02:03.456Z"));

    @Test
    @DisplayName("A checksum mismatch names the object it was hashed from; the finding answers for that object only")
    void findingIsKeptForTheSameObjectOnly() {
        FileReport report = new Reconciler()
                .reconcile(
                        new Partition(
                                List.of(new Meta("f", "f.txt", false, 10, RECORDED, 0, null, null)),
                                List.of(new Blob("f", 10, ACTUAL, OBJECT)),
                                List.of()),
                        null)
                .get(0);
        JsonObject details = report.issues().stream()
                .filter(i -> i.type() == IssueType.CHECKSUM_MISMATCH)
                .findFirst()
                .orElseThrow()
                .details();
        KnownContent known = KnownContent.of(Map.of("f", details));

        // As a listing gives it (milliseconds, quoted ETag) and as a HEAD does (seconds, bare ETag).
        assertThat(known.sha256("f", Version.of("\"etag-1\"", 10, Instant.parse("2026-12-07T01:02:03.456Z"))))
                .isEqualTo(ACTUAL);
        assertThat(known.sha256("f", Version.of("etag-1", 10, Instant.parse("2026-12-07T01:02:03Z"))))
                .isEqualTo(ACTUAL);
        // Written again (even with the same ETag and size), another object, another file: not known.
        assertThat(known.sha256("f", Version.of("etag-1", 10, Instant.parse("2026-12-07T01:02:04Z"))))
                .isNull();
        assertThat(known.sha256("f", Version.of("etag-2", 10, Instant.parse("2026-12-07T01:02:03Z"))))
                .isNull();
        assertThat(known.sha256("f", Version.of("etag-1", 11, Instant.parse("2026-12-07T01:02:03Z"))))
                .isNull();
        assertThat(known.sha256("g", OBJECT)).isNull();
    }

    @Test
    @DisplayName("An issue that names no object (recorded before objects were named) is not known")
    void issueWithoutObjectIsNotKnown() {
        KnownContent known = KnownContent.of(
                Map.of("f", new JsonObject().put("recorded", RECORDED).put("actual", ACTUAL)));
        assertThat(known.sha256("f", OBJECT)).isNull();
    }
}
