package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StoredFieldsTest {

    private static final int PARTITIONS = 8;

    private static JsonObject written() {
        String id = "01a25174-2f9c-7a06-bf7a-38d598323815";
        return new FileRecord(
                        id,
                        "acme",
                        "a.txt",
                        "text/plain",
                        12,
                        "a".repeat(64),
                        FileRecord.Status.ACTIVE,
                        3,
                        StoreKeys.partition(id, PARTITIONS),
                        new FileRecord.Embedding("m", 4, 2, "a".repeat(64)),
                        Instant.parse("2026-12-07T10:00:00Z"),
                        Instant.parse("2026-12-07T10:00:01Z"),
                        null)
                .toDocument();
    }

    private static FileRecord read(JsonObject doc) {
        return FileRecord.fromDocument(doc, PARTITIONS);
    }

    @Test
    @DisplayName("A document as this service writes it reads back equal and readable")
    void writtenReadsBack() {
        FileRecord r = read(written());
        assertThat(r.unreadable()).isNull();
        assertThat(r.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(r.toDocument()).isEqualTo(written());
    }

    @Test
    @DisplayName("A whole number a shell wrote as a double reads as that number")
    void wholeDoubleIsANumber() {
        FileRecord r = read(written().put("size", 12.0).put("version", 3.0));
        assertThat(r.unreadable()).isNull();
        assertThat(r.size()).isEqualTo(12);
        assertThat(r.version()).isEqualTo(3);
    }

    @Test
    @DisplayName("Each field holding a value never written is named, and the record reads as unreadable")
    void eachBadFieldIsNamed() {
        assertThat(read(written().put("status", "archived")).unreadable()).isEqualTo("status");
        assertThat(read(unset(written(), "sha256")).unreadable()).isEqualTo("sha256");
        assertThat(read(written().put("sha256", "abc")).unreadable()).isEqualTo("sha256");
        assertThat(read(written().put("size", "big")).unreadable()).isEqualTo("size");
        assertThat(read(written().put("size", -1)).unreadable()).isEqualTo("size");
        assertThat(read(written().put("size", 1.5)).unreadable()).isEqualTo("size");
        assertThat(read(unset(written(), "size")).unreadable()).isEqualTo("size");
        assertThat(read(written().put("version", "v2")).unreadable()).isEqualTo("version");
        assertThat(read(unset(written(), "tenantId")).unreadable()).isEqualTo("tenantId");
        assertThat(read(written().put("createdAt", "yesterday")).unreadable()).isEqualTo("createdAt");
        assertThat(read(written().put("labels", "x")).unreadable()).isEqualTo("labels");
        assertThat(read(written().put("history", 3)).unreadable()).isEqualTo("history");
        JsonObject chunks = written();
        chunks.getJsonObject("embedding").put("chunks", "x");
        assertThat(read(chunks).unreadable()).isEqualTo("embedding.chunks");
        FileRecord bad = read(written().put("size", "big"));
        assertThat(bad.status()).isEqualTo(FileRecord.Status.UNREADABLE);
        assertThat(bad.sha256()).isEqualTo("a".repeat(64));
    }

    @Test
    @DisplayName("A partition the id does not fall in, none, or one beyond the partitions is unreadable;"
            + " the stored number is kept when it names a partition, else -1")
    void partitionIsChecked() {
        JsonObject doc = written();
        int own = doc.getInteger("partition");
        FileRecord moved = read(doc.copy().put("partition", (own + 1) % PARTITIONS));
        assertThat(moved.unreadable()).isEqualTo("partition");
        assertThat(moved.partition()).isEqualTo((own + 1) % PARTITIONS);
        assertThat(read(unset(doc.copy(), "partition")).partition()).isEqualTo(-1);
        assertThat(read(unset(doc.copy(), "partition")).unreadable()).isEqualTo("partition");
        FileRecord beyond = read(doc.copy().put("partition", PARTITIONS + own));
        assertThat(beyond.unreadable()).isEqualTo("partition");
        assertThat(beyond.partition()).isEqualTo(-1);
        // Without the partition count (a reader of a bus message) the number is not checked.
        assertThat(FileRecord.fromDocument(doc.copy().put("partition", (own + 1) % PARTITIONS))
                        .unreadable())
                .isNull();
    }

    @Test
    @DisplayName("An unreadable record is never written back")
    void unreadableIsNotWritten() {
        FileRecord bad = read(written().put("size", "big"));
        org.assertj.core.api.Assertions.assertThatThrownBy(bad::toDocument).hasMessageContaining("field size");
    }

    private static JsonObject unset(JsonObject doc, String field) {
        doc.remove(field);
        return doc;
    }
}
