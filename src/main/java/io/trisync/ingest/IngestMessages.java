package io.trisync.ingest;

import io.trisync.failure.Failure;
import io.trisync.store.Actor;
import io.trisync.store.FileFields;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The messages of {@link IngestAddresses}, one record each. JSON on the wire (camelCase); {@code
 * fromJson} validates and throws {@link Failure.BadRequest}, which the verticle answers with 400.
 */
public final class IngestMessages {

    private IngestMessages() {}

    /**
     * {@link IngestAddresses#BEGIN_UPLOAD}: what the receiving node knows about the bytes it holds, and
     * its incarnation, which holds the operation while it writes the blob (null: the recording node's).
     */
    public record BeginUpload(
            String tenantId,
            String name,
            String contentType,
            long size,
            String sha256,
            String idempotencyKey,
            String incarnation,
            Actor actor) {

        public BeginUpload {
            actor = actor == null ? Actor.SYSTEM : actor;
            Ids.require("user_id", tenantId);
            FileFields.name("file name", name);
            FileFields.contentType("the file's content type", contentType);
            if (size < 1) {
                throw new Failure.BadRequest("file is empty");
            }
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new Failure.BadRequest("sha256 must be 64 lowercase hex digits");
            }
            if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 255)) {
                throw new Failure.BadRequest("Idempotency-Key must be 1 to 255 characters");
            }
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("name", name)
                    .put("contentType", contentType)
                    .put("size", size)
                    .put("sha256", sha256)
                    .put("idempotencyKey", idempotencyKey)
                    .put("incarnation", incarnation)
                    .put("actor", actor.toJson());
        }

        public static BeginUpload fromJson(JsonObject json) {
            return new BeginUpload(
                    json.getString("tenantId"),
                    json.getString("name"),
                    json.getString("contentType", "application/octet-stream"),
                    json.getLong("size", 0L),
                    json.getString("sha256"),
                    json.getString("idempotencyKey"),
                    json.getString("incarnation"),
                    Actor.fromJson(json.getJsonObject("actor")));
        }
    }

    /**
     * {@link IngestAddresses#BEGIN_REPLACE}: new content for file {@code fileId} of the tenant, written
     * only while the file is at {@code expectedVersion} (null: at whatever version it is now), and the
     * receiving node's incarnation (as {@link BeginUpload}).
     */
    public record BeginReplace(
            String tenantId,
            String fileId,
            Long expectedVersion,
            String contentType,
            long size,
            String sha256,
            String incarnation,
            Actor actor) {

        public BeginReplace {
            actor = actor == null ? Actor.SYSTEM : actor;
            // No tenant: an admin who named none; the file's own is used.
            if (tenantId != null) {
                Ids.require("user_id", tenantId);
            }
            Ids.require("file_id", fileId);
            FileFields.contentType("the file's content type", contentType);
            if (size < 1) {
                throw new Failure.BadRequest("file is empty");
            }
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new Failure.BadRequest("sha256 must be 64 lowercase hex digits");
            }
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("fileId", fileId)
                    .put("expectedVersion", expectedVersion)
                    .put("contentType", contentType)
                    .put("size", size)
                    .put("sha256", sha256)
                    .put("incarnation", incarnation)
                    .put("actor", actor.toJson());
        }

        public static BeginReplace fromJson(JsonObject json) {
            return new BeginReplace(
                    json.getString("tenantId"),
                    json.getString("fileId"),
                    json.getLong("expectedVersion"),
                    json.getString("contentType", "application/octet-stream"),
                    json.getLong("size", 0L),
                    json.getString("sha256"),
                    json.getString("incarnation"),
                    Actor.fromJson(json.getJsonObject("actor")));
        }
    }

    /**
     * Reply to {@link BeginUpload} and {@link BeginReplace}: where to write the blob under which operation; or, for a retried
     * idempotent upload that already finished, the existing file ({@code existing} not null). {@code
     * operation} is the recorded operation, handed back with the completion so it is not read again.
     */
    public record UploadTicket(String opId, String fileId, String blobKey, JsonObject existing, JsonObject operation) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put("opId", opId)
                    .put("fileId", fileId)
                    .put("blobKey", blobKey)
                    .put("existing", existing)
                    .put("operation", operation);
        }

        public static UploadTicket fromJson(JsonObject json) {
            return new UploadTicket(
                    json.getString("opId"),
                    json.getString("fileId"),
                    json.getString("blobKey"),
                    json.getJsonObject("existing"),
                    json.getJsonObject("operation"));
        }
    }

    /**
     * {@link IngestAddresses#COMPLETE_UPLOAD} and {@link IngestAddresses#ABORT_UPLOAD}: one operation,
     * with its document as {@link UploadTicket} carried it when the sender has it (else it is read).
     */
    public record OperationRef(String opId, String reason, JsonObject operation, Staged staged) {

        public OperationRef {
            if (opId == null || opId.isBlank()) {
                throw new Failure.BadRequest("opId is required");
            }
        }

        public OperationRef(String opId, String reason) {
            this(opId, reason, null, null);
        }

        public OperationRef(String opId, String reason, JsonObject operation) {
            this(opId, reason, operation, null);
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("opId", opId)
                    .put("reason", reason)
                    .put("operation", operation)
                    .put("staged", staged == null ? null : staged.toJson());
        }

        public static OperationRef fromJson(JsonObject json) {
            JsonObject staged = json.getJsonObject("staged");
            return new OperationRef(
                    json.getString("opId"),
                    json.getString("reason"),
                    json.getJsonObject("operation"),
                    staged == null ? null : Staged.fromJson(staged));
        }
    }

    /** {@link IngestAddresses#COMPLETE_UPLOADS}: uploads a receiving node completes together, in the order given. */
    public record CompleteUploads(List<OperationRef> uploads) {

        public CompleteUploads {
            if (uploads == null || uploads.isEmpty()) {
                throw new Failure.BadRequest("uploads is required");
            }
            uploads = List.copyOf(uploads);
        }

        public JsonObject toJson() {
            JsonArray all = new JsonArray();
            uploads.forEach(ref -> all.add(ref.toJson()));
            return new JsonObject().put("uploads", all);
        }

        public static CompleteUploads fromJson(JsonObject json) {
            JsonArray all = json.getJsonArray("uploads");
            if (all == null) {
                throw new Failure.BadRequest("uploads is required");
            }
            return new CompleteUploads(IntStream.range(0, all.size())
                    .mapToObj(i -> OperationRef.fromJson(all.getJsonObject(i)))
                    .toList());
        }
    }

    /**
     * One upload's outcome in a {@link CompleteUploads} reply: its file record, or the status and
     * message its own request would have failed with.
     */
    public record Completion(JsonObject file, int status, String message) {

        public static Completion done(JsonObject file) {
            return new Completion(file, 200, null);
        }

        public static Completion failed(int status, String message) {
            return new Completion(null, status, message);
        }

        /** The outcome as the reply to a request of its own would have given it. */
        public Future<JsonObject> outcome() {
            return file != null
                    ? Future.succeededFuture(file)
                    : Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, status, message));
        }

        public JsonObject toJson() {
            return new JsonObject().put("file", file).put("status", status).put("message", message);
        }

        public static Completion fromJson(JsonObject json) {
            return new Completion(json.getJsonObject("file"), json.getInteger("status"), json.getString("message"));
        }
    }

    /** The reply to {@link CompleteUploads}: one {@link Completion} per upload, in the order sent. */
    public record Completions(List<Completion> outcomes) {

        public Completions {
            outcomes = List.copyOf(outcomes);
        }

        public JsonObject toJson() {
            JsonArray all = new JsonArray();
            outcomes.forEach(c -> all.add(c.toJson()));
            return new JsonObject().put("outcomes", all);
        }

        public static Completions fromJson(JsonObject json) {
            JsonArray all = json.getJsonArray("outcomes");
            return new Completions(IntStream.range(0, all.size())
                    .mapToObj(i -> Completion.fromJson(all.getJsonObject(i)))
                    .toList());
        }
    }

    /**
     * Where the receiving node still holds an upload's bytes it has just written to S3 (the S3 PUT
     * acknowledged with {@code etag}): its spool file, on the node process {@code incarnation}. A
     * completion on that same process reads them there instead of reading the blob back from S3.
     */
    public record Staged(String path, String incarnation, String etag) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put("path", path)
                    .put("incarnation", incarnation)
                    .put("etag", etag);
        }

        public static Staged fromJson(JsonObject json) {
            return new Staged(json.getString("path"), json.getString("incarnation"), json.getString("etag"));
        }
    }

    /**
     * {@link IngestAddresses#GET_FILE} (and, in a {@link DeleteFile}, the delete): one file of one tenant, or
     * ({@code tenantId} null, an admin's request) of whichever tenant holds it; {@code actor}: who asked
     * for the delete (recorded on its operation).
     */
    public record FileRef(String tenantId, String fileId, Actor actor) {

        public FileRef {
            if (tenantId != null) {
                Ids.require("user_id", tenantId);
            }
            Ids.require("file_id", fileId);
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("fileId", fileId)
                    .put("actor", actor.toJson());
        }

        public static FileRef fromJson(JsonObject json) {
            return new FileRef(
                    json.getString("tenantId"), json.getString("fileId"), Actor.fromJson(json.getJsonObject("actor")));
        }
    }

    /**
     * {@link IngestAddresses#DELETE}: delete {@code file}, only while it is at {@code expectedVersion}
     * (its {@code If-Match}) when that is not null.
     */
    public record DeleteFile(FileRef file, Long expectedVersion) {

        public JsonObject toJson() {
            return file.toJson().put("expectedVersion", expectedVersion);
        }

        public static DeleteFile fromJson(JsonObject json) {
            return new DeleteFile(FileRef.fromJson(json), json.getLong("expectedVersion"));
        }
    }

    /**
     * {@link IngestAddresses#EDIT}: a new {@code name} and/or {@code labels} (replacing the old ones)
     * for one file, written only while the file is at {@code expectedVersion} (null: whatever version
     * it is at now, still one write after another, never a lost update). Labels are a small object of
     * string values.
     */
    public record EditFile(
            String tenantId, String fileId, Long expectedVersion, String name, JsonObject labels, Actor actor) {

        public static final int MAX_LABELS = 32;
        public static final int MAX_LABEL_KEY = 64;
        public static final int MAX_LABEL_VALUE = 256;

        public EditFile {
            if (tenantId != null) {
                Ids.require("user_id", tenantId);
            }
            Ids.require("file_id", fileId);
            if (name == null && labels == null) {
                throw new Failure.BadRequest("name or labels is required");
            }
            if (name != null) {
                FileFields.name("name", name);
            }
            if (labels != null) {
                if (labels.size() > MAX_LABELS) {
                    throw new Failure.BadRequest("labels may hold at most " + MAX_LABELS + " entries");
                }
                labels.forEach(e -> {
                    if (e.getKey().length() > MAX_LABEL_KEY || !FileFields.isLabelKey(e.getKey())) {
                        throw new Failure.BadRequest("labels: a key must be 1 to " + MAX_LABEL_KEY
                                + " characters, not blank, without control characters, not starting with '$'");
                    }
                    if (!(e.getValue() instanceof String v)
                            || v.length() > MAX_LABEL_VALUE
                            || !FileFields.isLabelValue(v)) {
                        throw new Failure.BadRequest("labels." + e.getKey() + " must be a string of at most "
                                + MAX_LABEL_VALUE + " characters, without control characters but tabs and line"
                                + " breaks");
                    }
                });
            }
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("fileId", fileId)
                    .put("expectedVersion", expectedVersion)
                    .put("name", name)
                    .put("labels", labels)
                    .put("actor", actor.toJson());
        }

        public static EditFile fromJson(JsonObject json) {
            return new EditFile(
                    json.getString("tenantId"),
                    json.getString("fileId"),
                    json.getLong("expectedVersion"),
                    json.getString("name"),
                    json.getJsonObject("labels"),
                    Actor.fromJson(json.getJsonObject("actor")));
        }
    }

    /** {@link IngestAddresses#ERASE} and {@link IngestAddresses#ERASURE}: one tenant, and who asks. */
    public record EraseTenant(String tenantId, Actor actor) {
        public EraseTenant {
            Ids.require("tenant_id", tenantId);
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put("tenantId", tenantId).put("actor", actor.toJson());
        }

        public static EraseTenant fromJson(JsonObject json) {
            return new EraseTenant(json.getString("tenantId"), Actor.fromJson(json.getJsonObject("actor")));
        }
    }

    /** {@link IngestAddresses#LIST_FILES}: a page of a tenant's active files, newest first, before {@code cursor}. */
    public record ListFiles(String tenantId, int limit, String cursor) {

        public static final int MAX_LIMIT = 500;

        public ListFiles {
            Ids.require("user_id", tenantId);
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new Failure.BadRequest("limit must be between 1 and " + MAX_LIMIT);
            }
            if (cursor != null && !Ids.valid(cursor)) {
                throw new Failure.BadRequest("cursor is not one this API returned");
            }
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("limit", limit)
                    .put("cursor", cursor);
        }

        public static ListFiles fromJson(JsonObject json) {
            return new ListFiles(json.getString("tenantId"), json.getInteger("limit", 50), json.getString("cursor"));
        }
    }

    /** The answer to {@link ListFiles}: the page's files, and the cursor of the next page (null: none). */
    public record FilePage(List<FileRecord> files, String next) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put(
                            "files",
                            new JsonArray(
                                    files.stream().map(FileRecord::toDocument).toList()))
                    .put("next", next);
        }

        public static FilePage fromJson(JsonObject json) {
            return new FilePage(
                    json.getJsonArray("files").stream()
                            .map(f -> FileRecord.fromDocument((JsonObject) f))
                            .toList(),
                    json.getString("next"));
        }
    }

    /**
     * The answer to a delete ({@link IngestAddresses#DELETE}): the file as the delete left it, its
     * operation (null when the file was already deleted), and {@code done} false when the delete is
     * recorded and will finish when the stores allow.
     */
    public record DeleteOutcome(FileRecord file, String opId, boolean done) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put("file", file.toDocument())
                    .put("opId", opId)
                    .put("done", done);
        }

        public static DeleteOutcome fromJson(JsonObject json) {
            return new DeleteOutcome(
                    FileRecord.fromDocument(json.getJsonObject("file")),
                    json.getString("opId"),
                    json.getBoolean("done"));
        }
    }
}
