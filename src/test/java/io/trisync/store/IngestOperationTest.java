package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IngestOperationTest {

    private static final String SHA = "ab".repeat(32);

    private static final JsonObject WRITTEN = IngestOperation.begin(
                    "op-1",
                    Kind.UPLOAD,
                    "acme",
                    "file-1",
                    3,
                    "a.txt",
                    "text/plain",
                    12,
                    SHA,
                    "key",
                    "node",
                    "inc",
                    new Actor("alice", "acme", false, "127.0.0.1"))
            .expecting(4L)
            .withStep(Step.COMMITTED)
            .toDocument();

    /** An operation as this service writes it (a copy). */
    private static JsonObject written() {
        return WRITTEN.copy();
    }

    private static JsonObject with(String field, Object value) {
        JsonObject doc = written();
        if (value == null) {
            doc.remove(field);
        } else {
            doc.put(field, value);
        }
        return doc;
    }

    /** {@code doc} ended at {@code step} as this service writes it: terminal, its file freed. */
    private static JsonObject ended(JsonObject doc, String step) {
        doc.put("step", step).put("terminal", true).remove("openFile");
        return doc;
    }

    @Test
    @DisplayName("An operation as this service writes it reads back readable and writes back the same")
    void writtenReadsBack() {
        IngestOperation op = IngestOperation.fromDocument(written());
        assertThat(op.unreadable()).isNull();
        assertThat(op.readable()).isSameAs(op);
        assertThat(op.toDocument()).isEqualTo(written());
        assertThat(op.size()).isEqualTo(12);
        assertThat(op.expectedVersion()).isEqualTo(4L);
        assertThat(op.actor().subject()).isEqualTo("alice");
        // A whole number a shell wrote as a double; the optional fields absent.
        JsonObject shell = written().put("size", 12.0).put("partition", 3.0);
        List.of("sha256", "name", "expectedVersion", "actor", "leaseUntil").forEach(shell::remove);
        IngestOperation read = IngestOperation.fromDocument(shell);
        assertThat(read.unreadable()).isNull();
        assertThat(read.size()).isEqualTo(12);
        assertThat(read.partition()).isEqualTo(3);
        assertThat(read.expectedVersion()).isNull();
        assertThat(read.actor()).isEqualTo(Actor.SYSTEM);
    }

    @Test
    @DisplayName("Each field holding a value this service never writes is named, read as far as it can be,"
            + " and acting on the operation is a conflict naming it; it is never written back")
    void eachBadFieldIsNamed() {
        Map<String, Object> edits = new java.util.LinkedHashMap<>();
        edits.put("kind", "ARCHIVE");
        edits.put("step", 3);
        edits.put("size", "big");
        edits.put("partition", -1);
        edits.put("sha256", 7);
        edits.put("tenantId", 7);
        edits.put("actor", "x");
        edits.put("expectedVersion", "4");
        edits.put("leaseUntil", "tomorrow");
        edits.put("promisedAt", new JsonObject().put("$date", "soon"));
        edits.put("name", new JsonObject());
        edits.forEach((field, value) -> {
            IngestOperation op = IngestOperation.fromDocument(with(field, value));
            assertThat(op.unreadable()).as(field + " " + value).isEqualTo(field);
            assertThat(op.id()).isEqualTo("op-1");
            assertThat(op.fileId()).isEqualTo("file-1");
            assertThatThrownBy(op::readable)
                    .as(field)
                    .isInstanceOf(Failure.Conflict.class)
                    .hasMessageContaining("operation op-1 of file file-1")
                    .hasMessageContaining("field " + field);
            assertThatThrownBy(op::toDocument).isInstanceOf(IllegalStateException.class);
        });
        for (String required : List.of("kind", "step", "tenantId", "fileId", "createdAt", "updatedAt")) {
            assertThat(IngestOperation.fromDocument(with(required, null)).unreadable())
                    .as(required + " removed")
                    .isEqualTo(required);
        }
        IngestOperation kindless = IngestOperation.fromDocument(with("kind", "ARCHIVE"));
        assertThat(kindless.kind()).isNull();
        assertThat(kindless.step()).isEqualTo(Step.COMMITTED);
        assertThat(kindless.describe()).isEqualTo("operation op-1 (unreadable: its field kind)");
    }

    @Test
    @DisplayName("The last kept operation is an unreadable one that may be the tenant's, wherever it stands;"
            + " another tenant's is passed by")
    void lastKeptNeverGuessesPastAnUnreadable() {
        IngestOperation upload = IngestOperation.fromDocument(written());
        IngestOperation deleted =
                IngestOperation.fromDocument(ended(written().put("_id", "op-2").put("kind", "DELETE"), "DONE"));
        IngestOperation bad = IngestOperation.fromDocument(with("step", "GONE"));
        IngestOperation tenantless = IngestOperation.fromDocument(with("tenantId", null));
        IngestOperation others =
                IngestOperation.fromDocument(written().put("tenantId", "other").put("size", "big"));
        assertThat(IngestOperation.lastKept(List.of(upload, deleted), "acme")).isSameAs(deleted);
        assertThat(IngestOperation.lastKept(List.of(bad, upload), "acme")).isSameAs(bad);
        assertThat(IngestOperation.lastKept(List.of(upload, bad), "acme")).isSameAs(bad);
        assertThat(IngestOperation.lastKept(List.of(tenantless, upload), "acme"))
                .isSameAs(tenantless);
        assertThat(IngestOperation.lastKept(List.of(upload, others), "acme")).isSameAs(upload);
    }

    @Test
    @DisplayName(
            "A terminal or openFile that disagrees with the step (edited by hand) is named: terminal is the"
                    + " step's, openFile the file's while unfinished, absent once ended, absent early only for a committed upload")
    void terminalAndOpenFileAgreeWithTheStep() {
        IngestOperation committed = IngestOperation.fromDocument(written());
        assertThat(committed.unreadable()).isNull();
        // What its commit writes (the file freed), what its end writes, and an ended delete's.
        for (JsonObject doc : List.of(
                with("openFile", null),
                ended(written(), "DONE"),
                ended(written(), "ABORTED"),
                ended(written().put("kind", "DELETE"), "DONE"))) {
            assertThat(IngestOperation.fromDocument(doc).unreadable())
                    .as(doc.encode())
                    .isNull();
        }
        Map<String, JsonObject> edits = new java.util.LinkedHashMap<>();
        edits.put("terminal true while COMMITTED", with("terminal", true));
        edits.put("terminal removed", with("terminal", null));
        edits.put("terminal as text", with("terminal", "false"));
        edits.put("DONE but terminal false", ended(written(), "DONE").put("terminal", false));
        edits.put("DONE still holding its file", ended(written(), "DONE").put("openFile", "file-1"));
        edits.put("another file held", with("openFile", "file-2"));
        edits.put("openFile a number", with("openFile", 7));
        edits.put("BEGUN holding no file", with("openFile", null).put("step", "BEGUN"));
        edits.put("a committed delete holding no file", with("openFile", null).put("kind", "DELETE"));
        edits.put(
                "a committed new version holding no file",
                with("openFile", null).put("kind", "REPLACE"));
        edits.forEach((what, doc) -> {
            String field = what.startsWith("terminal") || what.contains("terminal false") ? "terminal" : "openFile";
            IngestOperation op = IngestOperation.fromDocument(doc);
            assertThat(op.unreadable()).as(what).isEqualTo(field);
            assertThat(op.step()).as(what).isNotNull();
            assertThatThrownBy(op::readable)
                    .as(what)
                    .isInstanceOf(Failure.Conflict.class)
                    .hasMessageContaining("operation op-1 of file file-1")
                    .hasMessageContaining("field " + field);
        });
        // A step none of trisync's names is named first, whatever terminal says.
        assertThat(IngestOperation.fromDocument(with("step", "GONE").put("terminal", "x"))
                        .unreadable())
                .isEqualTo("step");
    }
}
