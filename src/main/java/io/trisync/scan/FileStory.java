package io.trisync.scan;

import io.trisync.failure.Failure;
import io.trisync.store.AuditEntry;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IssueRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A file's whole story, read from the stores now: what each store holds for it (the record, the
 * blob's size, sha256 and ETag, the points' count, chunks and models), its open issues, and a
 * timeline of every event, upload or delete operation and repair action that touched it, newest
 * first. For the admin UI's file page and for "what happened to this document?".
 */
final class FileStory {

    private static final int EVENTS = 200;

    private final Stores stores;

    FileStory(Stores stores) {
        this.stores = stores;
    }

    /** The story of {@code fileId}; {@code tenantId} null: whichever tenant holds it (an admin's request). */
    Future<JsonObject> of(String tenantId, String fileId) {
        Future<FileRecord> read = stores.metadata().get(fileId);
        Future<Set<String>> uploading = stores.operations().uploading(List.of(fileId));
        return Future.all(read, uploading).map(both -> read.result()).compose(record -> {
            if (tenantId != null && !tenantId.equals(record.tenantId())) {
                // As for a file the store does not hold: another tenant's is not there for this one.
                return Future.failedFuture(new Failure.NotFound("mongodb", "no file " + fileId));
            }
            if (uploading.result().contains(fileId)) {
                // As GET answers: an undo may still remove what its upload wrote so far.
                return Future.failedFuture(new Failure.NotFound(
                        "no file " + fileId + " yet: its upload is still completing; it is shown once it commits"));
            }
            String tenant = record.tenantId();
            Future<JsonObject> blob = blob(record);
            Future<List<ChunkPoint>> points = stores.vectors().pointsOf(tenant, fileId);
            Future<List<IssueRecord>> issues = stores.issues().ofFile(tenant, fileId);
            Future<List<Event>> events = stores.events().ofFile(tenant, fileId, EVENTS);
            Future<List<IngestOperation>> ops = stores.operations().ofFile(fileId);
            Future<List<AuditEntry>> repairs = stores.repairs().auditsOfFile(fileId, EVENTS);
            return Future.all(blob, points, issues, events, ops, repairs).map(all -> new JsonObject()
                    .put(
                            "file",
                            record.status() == FileRecord.Status.UNREADABLE
                                    // Shown, not written: what could be read, and the field a person must correct.
                                    ? new JsonObject()
                                            .put(FileRecord.ID, record.id())
                                            .put(FileRecord.TENANT_ID, record.tenantId())
                                            .put(FileRecord.NAME, record.name())
                                            .put(FileRecord.STATUS, FileRecord.Status.UNREADABLE.wire())
                                            .put("unreadable", record.unreadable())
                                    : record.toDocument())
                    .put(
                            "stores",
                            new JsonObject()
                                    .put("mongodb", mongo(record))
                                    .put("s3", blob.result())
                                    .put("qdrant", qdrant(record, points.result())))
                    .put(
                            "issues",
                            new JsonArray(issues.result().stream()
                                    .map(i -> new JsonObject()
                                            .put("type", i.type())
                                            .put(
                                                    "description",
                                                    IssueType.valueOf(i.type()).description())
                                            .put(
                                                    "suggested_action",
                                                    IssueType.valueOf(i.type()).suggestedAction())
                                            .put("details", i.details())
                                            .put("first_seen", i.firstSeen()))
                                    .toList()))
                    .put("timeline", timeline(events.result(), ops.result(), repairs.result())));
        });
    }

    private static JsonObject mongo(FileRecord r) {
        return new JsonObject()
                .put("present", true)
                .put("status", r.status().wire())
                .put("version", r.version())
                .put("size", r.size())
                .put("sha256", r.sha256())
                .put("verdict", r.sync() == null ? null : r.sync().verdict());
    }

    private Future<JsonObject> blob(FileRecord r) {
        return stores.blobs()
                .head(StoreKeys.blobKey(r.tenantId(), r.partition(), r.id()))
                .map((BlobInfo b) -> new JsonObject()
                        .put("present", true)
                        .put("key", b.key())
                        .put("size", b.size())
                        .put("sha256", b.sha256())
                        .put("etag", b.etag())
                        .put(
                                "matches_record",
                                r.size() == b.size()
                                        && r.sha256() != null
                                        && r.sha256().equals(b.sha256())))
                .recover(e -> e instanceof Failure.NotFound
                        ? Future.succeededFuture(new JsonObject().put("present", false))
                        : Future.failedFuture(e));
    }

    private static JsonObject qdrant(FileRecord r, List<ChunkPoint> points) {
        TreeSet<Integer> chunks = new TreeSet<>();
        TreeSet<String> models = new TreeSet<>();
        points.forEach(p -> {
            chunks.add(p.chunk());
            models.add(p.model());
        });
        int expected = r.embedding() == null ? 0 : r.embedding().chunks();
        return new JsonObject()
                .put("present", !points.isEmpty())
                .put("points", points.size())
                .put("expected_points", expected)
                .put("chunks", new JsonArray(new ArrayList<>(chunks)))
                .put("models", new JsonArray(new ArrayList<>(models)))
                .put(
                        "indexing",
                        r.embedding() == null ? "indexed" : r.embedding().state());
    }

    /** Events, ingest operations and repair actions of the file in one list, newest first. */
    private static JsonArray timeline(List<Event> events, List<IngestOperation> ops, List<AuditEntry> repairs) {
        List<JsonObject> all = new ArrayList<>();
        events.forEach(e -> all.add(new JsonObject()
                .put("at", e.at())
                .put("source", "event")
                .put("type", e.type())
                .put("operation_id", e.opId())
                .put("data", e.data())));
        ops.forEach(op -> all.add(
                op.unreadable() != null
                        // Shown as read: the field a person must correct, not a kind or step guessed.
                        ? new JsonObject()
                                .put("at", String.valueOf(op.createdAt()))
                                .put("source", "ingest")
                                .put("type", "unreadable")
                                .put("operation_id", op.id())
                                .put("unreadable", op.unreadable())
                                .put("message", op.whyUnreadable())
                        : new JsonObject()
                                .put("at", String.valueOf(op.createdAt()))
                                .put("source", "ingest")
                                .put(
                                        "type",
                                        op.kind().name().toLowerCase() + " "
                                                + op.step().name().toLowerCase())
                                .put("operation_id", op.id())
                                .put("by", op.actor().subject())));
        repairs.forEach(a -> all.add(new JsonObject()
                .put("at", String.valueOf(a.at()))
                .put("source", "repair")
                .put("type", a.actionName() + " " + a.status())
                .put("operation_id", a.opId())
                .put("reason", a.reason())));
        all.sort(Comparator.comparing((JsonObject j) -> String.valueOf(j.getString("at")))
                .reversed());
        return new JsonArray(all);
    }
}
