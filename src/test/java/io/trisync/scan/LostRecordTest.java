package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LostRecordTest {

    private static final String SHA = "ab".repeat(32);
    private static final String OTHER = "cd".repeat(32);

    private static IngestOperation op(String id, Kind kind, Step step, String tenant) {
        return IngestOperation.begin(id, kind, tenant, "f", 3, "a.txt", "text/plain", 12, SHA, null, "n", "i", null)
                .withStep(step);
    }

    private static IngestOperation op(String id, Kind kind, Step step) {
        return op(id, kind, step, "t");
    }

    @Test
    @DisplayName("A committed upload whose content the object holds rebuilds the record, named in the details")
    void committedUploadRestores() {
        for (Step step : List.of(Step.COMMITTED, Step.DONE)) {
            LostRecord lost = LostRecord.judge("t", "f", List.of(op("u", Kind.UPLOAD, step)), 12, SHA);
            assertThat(lost.restorable()).isTrue();
            assertThat(lost.operation()).isEqualTo("u");
            assertThat(lost.name()).isEqualTo("a.txt");
            JsonObject details = new JsonObject().put(LostRecord.FIELD, lost.toJson());
            assertThat(LostRecord.of(details)).isEqualTo(lost);
        }
    }

    @Test
    @DisplayName("A later delete or new version, an uncommitted upload, another tenant's upload or none kept: refused"
            + " with the reason, no name invented")
    void refusals() {
        IngestOperation upload = op("u", Kind.UPLOAD, Step.DONE);
        assertThat(LostRecord.judge("t", "f", List.of(upload, op("d", Kind.DELETE, Step.DONE)), 12, SHA)
                        .refused())
                .contains("deleted (operation d)");
        assertThat(LostRecord.judge("t", "f", List.of(upload, op("r", Kind.REPLACE, Step.DONE)), 12, SHA)
                        .refused())
                .contains("new version (operation r)");
        assertThat(LostRecord.judge("t", "f", List.of(op("u", Kind.UPLOAD, Step.BEGUN)), 12, SHA)
                        .refused())
                .contains("has not committed");
        LostRecord none = LostRecord.judge("t", "f", List.of(op("x", Kind.UPLOAD, Step.DONE, "other")), 12, SHA);
        assertThat(none.restorable()).isFalse();
        assertThat(none.name()).isNull();
        assertThat(none.refused()).contains("no upload", "no file name", "quarantined");
        assertThat(LostRecord.judge("t", "f", List.of(), 12, SHA).toJson().getString("refused"))
                .contains("RETENTION_INGEST_OPERATIONS_DAYS");
    }

    @Test
    @DisplayName("An undone operation after the upload changes nothing; the last kept one decides")
    void undoneOperationsAreSkipped() {
        IngestOperation upload = op("u", Kind.UPLOAD, Step.DONE);
        assertThat(LostRecord.judge("t", "f", List.of(upload, op("r", Kind.REPLACE, Step.ABORTED)), 12, SHA)
                        .restorable())
                .isTrue();
        assertThat(LostRecord.judge("t", "f", List.of(op("a", Kind.UPLOAD, Step.ABORTED)), 12, SHA)
                        .restorable())
                .isFalse();
    }

    @Test
    @DisplayName("An object whose size or sha256 metadata is not the upload's is not its content: refused")
    void otherBytesAreRefused() {
        List<IngestOperation> ops = List.of(op("u", Kind.UPLOAD, Step.DONE));
        assertThat(LostRecord.judge("t", "f", ops, 13, SHA).refused()).contains("not the content");
        assertThat(LostRecord.judge("t", "f", ops, 12, OTHER).refused()).contains("not the content");
        assertThat(LostRecord.judge("t", "f", ops, 12, null).restorable()).isFalse();
    }

    @Test
    @DisplayName("An operation of the file that cannot be read (a kind, step or size edited by hand), wherever it"
            + " stands and whatever else the log holds, refuses the restore naming it and the field")
    void unreadableOperationRefuses() {
        IngestOperation upload = op("u", Kind.UPLOAD, Step.DONE);
        for (var edit : List.of(
                new JsonObject().put("kind", "ARCHIVE"),
                new JsonObject().put("step", 3),
                new JsonObject().put("size", "big"),
                new JsonObject().putNull("createdAt"),
                new JsonObject().putNull("tenantId"))) {
            JsonObject doc = op("x", Kind.DELETE, Step.DONE).toDocument();
            edit.forEach(e -> doc.put(e.getKey(), e.getValue()));
            IngestOperation unreadable = IngestOperation.fromDocument(doc);
            assertThat(unreadable.unreadable())
                    .as(edit.encode())
                    .isEqualTo(edit.fieldNames().iterator().next());
            for (List<IngestOperation> ops : List.of(List.of(upload, unreadable), List.of(unreadable, upload))) {
                LostRecord lost = LostRecord.judge("t", "f", ops, 12, SHA);
                assertThat(lost.restorable()).as(edit.encode()).isFalse();
                assertThat(lost.refused())
                        .as(edit.encode())
                        .contains(
                                "operation x",
                                "field " + edit.fieldNames().iterator().next());
            }
        }
        // Another tenant's, read as such, names nothing of this one's.
        JsonObject others =
                op("x", Kind.DELETE, Step.DONE, "other").toDocument().put("size", "big");
        assertThat(LostRecord.judge("t", "f", List.of(upload, IngestOperation.fromDocument(others)), 12, SHA)
                        .restorable())
                .isTrue();
    }
}
