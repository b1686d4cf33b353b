package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.failure.Failure;
import io.trisync.http.ContentDownload.Served;
import io.trisync.ingest.IngestAddresses;
import io.trisync.ingest.IngestMessages.DeleteFile;
import io.trisync.ingest.IngestMessages.DeleteOutcome;
import io.trisync.ingest.IngestMessages.EditFile;
import io.trisync.ingest.IngestMessages.FilePage;
import io.trisync.ingest.IngestMessages.FileRef;
import io.trisync.ingest.IngestMessages.ListFiles;
import io.trisync.ingest.Receiver;
import io.trisync.ingest.Receiver.Received;
import io.trisync.metrics.Metrics;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanMessages;
import io.trisync.store.Actor;
import io.trisync.store.BlobStore;
import io.trisync.store.ContentVersion;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code /api/files}: upload (multipart {@code file} + {@code user_id}), list, get, content, delete.
 * This class parses and answers; the upload's coordinated write is {@link Receiver}'s and the
 * ingest verticles'.
 */
public final class FilesApi {

    private final Vertx vertx;
    private final BusClient bus;
    private final ContentDownload downloads;
    private final Receiver receiver;
    private final long maxFileBytes;
    private final Path uploadsDir;

    public FilesApi(
            Vertx vertx,
            BlobStore blobs,
            long maxFileBytes,
            Path uploadsDir,
            long requestTimeoutMs,
            long answerWithinMs,
            String incarnation,
            Metrics metrics) {
        this.vertx = vertx;
        this.bus = new BusClient(ClusterBus.of(vertx), requestTimeoutMs);
        this.downloads = new ContentDownload(blobs);
        this.receiver = new Receiver(vertx, blobs, requestTimeoutMs, answerWithinMs, incarnation, metrics);
        this.maxFileBytes = maxFileBytes;
        this.uploadsDir = uploadsDir;
    }

    public void mount(Router router) {
        Bodies.post(router, "/api/files", uploadBody()).handler(this::upload);
        router.get("/api/files").handler(this::list);
        router.get("/api/files/:file_id").handler(this::get);
        router.get("/api/files/:file_id/content").handler(this::content);
        Bodies.route(router, HttpMethod.PUT, "/api/files/:file_id/content", uploadBody())
                .handler(this::replace);
        router.get("/api/files/:file_id/versions").handler(this::versions);
        router.get("/api/files/:file_id/versions/:version/content").handler(this::versionContent);
        router.get("/api/files/:file_id/story").handler(this::story);
        router.delete("/api/files/:file_id").handler(this::delete);
        Bodies.route(
                        router,
                        HttpMethod.PATCH,
                        "/api/files/:file_id",
                        BodyHandler.create().setBodyLimit(64 * 1024))
                .handler(this::edit);
    }

    /**
     * A multipart body: held in memory when small, else spooled to the uploads folder and removed
     * when the request ends.
     */
    private UploadBodies uploadBody() {
        return new UploadBodies(vertx, uploadsDir, maxFileBytes + 1024 * 1024);
    }

    /**
     * {@code PUT /api/files/{id}/content}: a new version of the file's content (multipart {@code
     * file}, as an upload), with {@code If-Match} to write only over the version the caller saw. 200
     * with the file at its new version (202 when its vectors are pending); 200 with the file as it is
     * when it already holds these bytes.
     */
    private void replace(RoutingContext ctx) {
        formFields(ctx);
        String requested = ctx.queryParams().get("user_id");
        String inForm = ctx.request().getFormAttribute("user_id");
        if (requested != null && inForm != null && !requested.equals(inForm)) {
            throw new Failure.BadRequest("user_id: given twice, " + requested + " in the query and " + inForm
                    + " in the form (send it once)");
        }
        if (requested == null) {
            requested = inForm;
        }
        // An admin may name no tenant, as for reading, editing or deleting a file: the file's own then.
        String tenant = Access.caller(ctx).tenantFor(requested);
        if (tenant != null) {
            Ids.require("user_id", tenant);
        }
        Long expected = ifMatch(ctx.request().getHeader("If-Match"));
        UploadBodies.Part file = singleFile(ctx);
        receiver.receive(received(file, tenant, null, Access.actor(ctx))
                        .replacing(Ids.require("file_id", ctx.pathParam("file_id")), expected))
                .onSuccess(doc -> {
                    if (Receiver.accepted(doc)) {
                        json(ctx, 202, FileJson.completingView(doc));
                        return;
                    }
                    JsonObject stored = FileJson.publicView(doc);
                    withEtag(ctx, doc);
                    json(ctx, "pending".equals(stored.getString("indexing")) ? 202 : 200, stored);
                })
                .onFailure(error -> staleOr(ctx, error));
    }

    /** Answers 412 {@code stale_version} with the current version, or passes the failure on. */
    private static void staleOr(RoutingContext ctx, Throwable error) {
        if (Failure.of(error) instanceof Failure.StaleVersion stale) {
            json(
                    ctx,
                    Failure.PRECONDITION_FAILED,
                    new JsonObject()
                            .put("error", "stale_version")
                            .put("message", stale.getMessage())
                            .put("current_version", stale.current()));
        } else {
            ctx.fail(error);
        }
    }

    /** {@code GET /api/files/{id}/versions}: the versions of the file's content, newest (the current one) first. */
    private void versions(RoutingContext ctx) {
        bus.read(IngestAddresses.GET_FILE, fileRef(ctx).toJson())
                .map(FileRecord::fromDocument)
                .compose(f -> f.status() == FileRecord.Status.ACTIVE
                        ? Future.succeededFuture(f)
                        : Future.failedFuture(new Failure.NotFound("file " + f.id() + " is deleted")))
                .onSuccess(f -> {
                    JsonArray list = new JsonArray();
                    List<ContentVersion> all = f.contentVersions();
                    for (int i = 0; i < all.size(); i++) {
                        ContentVersion v = all.get(i);
                        list.add(new JsonObject()
                                .put("version", v.version())
                                .put("sha256", v.sha256())
                                .put("size", v.size())
                                .put("content_type", v.contentType())
                                .put("created_at", v.at() == null ? null : v.at().toString())
                                .put("by", v.by())
                                .put("current", i == 0)
                                .put("content_available", i == 0 || v.retained()));
                    }
                    json(ctx, 200, new JsonObject().put("file_id", f.id()).put("versions", list));
                })
                .onFailure(ctx::fail);
    }

    /** {@code GET /api/files/{id}/versions/{version}/content}: the bytes of one version while they are retained. */
    private void versionContent(RoutingContext ctx) {
        long wanted = versionParam(ctx.pathParam("version"));
        bus.read(IngestAddresses.GET_FILE, fileRef(ctx).toJson())
                .map(FileRecord::fromDocument)
                .compose(f -> {
                    if (f.status() != FileRecord.Status.ACTIVE) {
                        return Future.failedFuture(new Failure.NotFound("file " + f.id() + " is deleted"));
                    }
                    List<ContentVersion> all = f.contentVersions();
                    for (int i = 0; i < all.size(); i++) {
                        ContentVersion v = all.get(i);
                        if (v.version() != wanted) {
                            continue;
                        }
                        if (i == 0 || v.retained()) {
                            return downloads.send(
                                    ctx,
                                    new Served(
                                            i == 0
                                                    ? StoreKeys.blobKey(f.tenantId(), f.partition(), f.id())
                                                    : StoreKeys.versionKey(f.tenantId(), f.id(), wanted),
                                            f.name(),
                                            v.sha256(),
                                            v.size(),
                                            null));
                        }
                        return Future.failedFuture(new Failure.NotFound(
                                "version: the content of version " + wanted + " is no longer retained"));
                    }
                    return Future.failedFuture(
                            new Failure.NotFound("version: file " + f.id() + " has no content version " + wanted));
                })
                .onFailure(ctx::fail);
    }

    static long versionParam(String raw) {
        if (raw == null || !raw.matches("[0-9]{1,18}") || Long.parseLong(raw) < 1) {
            throw new Failure.BadRequest("version must be a positive whole number");
        }
        return Long.parseLong(raw);
    }

    /** {@code attachment} with {@code name} as RFC 6266 gives it: an ASCII fallback and the UTF-8 name. */
    static String attachment(String name) {
        String ascii = name.replaceAll("[^\\x20-\\x7E]|[\"\\\\]", "_");
        String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8)
                .replace("+", "%20")
                .replace("*", "%2A");
        return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
    }

    /**
     * {@code PATCH /api/files/{id}}: a new {@code name} and/or {@code labels}, with {@code If-Match:
     * "<version>"} (from the file's {@code ETag}) to write only over the version the caller saw; 412
     * {@code stale_version} with {@code current_version} when another write came first.
     */
    private void edit(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        Object labels = body.getValue("labels");
        if (labels != null && !(labels instanceof JsonObject)) {
            throw new Failure.BadRequest("labels must be an object of string values");
        }
        FileRef ref = fileRef(ctx);
        EditFile request = new EditFile(
                ref.tenantId(),
                ref.fileId(),
                ifMatch(ctx.request().getHeader("If-Match")),
                Bodies.string(body, "name"),
                (JsonObject) labels,
                Access.actor(ctx));
        bus.request(IngestAddresses.EDIT, request.toJson())
                .onSuccess(doc -> Answers.end(
                        withEtag(ctx, doc).setStatusCode(200).putHeader("Content-Type", "application/json"),
                        FileJson.publicView(doc).encode()))
                .onFailure(error -> staleOr(ctx, error));
    }

    /**
     * {@code body} without the client address of any actor it names ({@code started_by}, {@code
     * cancelled_by}, {@code restored_by}…: objects with a {@code subject}): who acted is a tenant's to
     * see, where an admin connected from is not.
     */
    static JsonObject withoutAddresses(JsonObject body) {
        JsonObject copy = body.copy();
        strip(copy);
        return copy;
    }

    private static void strip(Object value) {
        if (value instanceof JsonObject o) {
            if (o.containsKey("subject") && o.containsKey("address")) {
                o.remove("address");
            }
            o.forEach(e -> strip(e.getValue()));
        } else if (value instanceof JsonArray a) {
            a.forEach(FilesApi::strip);
        }
    }

    /** The version an {@code If-Match} names ({@code "3"}, {@code W/"3"} or {@code 3}); null when absent. */
    static Long ifMatch(String header) {
        if (header == null) {
            return null;
        }
        String v = header.strip().replaceFirst("^W/", "");
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        if (!v.matches("[0-9]{1,18}")) {
            throw new Failure.BadRequest("If-Match must be the file's ETag, a quoted version such as \"3\"");
        }
        return Long.parseLong(v);
    }

    /** The response with the file's {@code ETag}: its version, quoted. */
    private static HttpServerResponse withEtag(RoutingContext ctx, JsonObject doc) {
        return ctx.response()
                .putHeader("ETag", "\"" + FileRecord.fromDocument(doc).version() + "\"");
    }

    private void upload(RoutingContext ctx) {
        formFields(ctx);
        String tenant = Ids.require(
                "user_id", Access.caller(ctx).tenantFor(ctx.request().getFormAttribute("user_id")));
        UploadBodies.Part file = singleFile(ctx);
        receiver.receive(received(file, tenant, ctx.request().getHeader("Idempotency-Key"), Access.actor(ctx)))
                .onSuccess(doc -> {
                    if (Receiver.accepted(doc)) {
                        json(ctx, 202, FileJson.completingView(doc));
                        return;
                    }
                    JsonObject stored = FileJson.publicView(doc);
                    // Stored in S3 and MongoDB; its vectors follow once the embedding service answers.
                    json(ctx, "pending".equals(stored.getString("indexing")) ? 202 : 201, stored);
                })
                .onFailure(ctx::fail);
    }

    /**
     * Refuses a multipart text field other than {@code user_id}, or {@code user_id} given twice, as a
     * JSON body's unknown field is refused: {@code name} or {@code labels} sent with an upload were
     * stored as if never sent, and of two {@code user_id}s the first was taken.
     */
    private static void formFields(RoutingContext ctx) {
        for (UploadBodies.Part part : UploadBodies.parts(ctx)) {
            if (!"file".equals(part.name())) {
                // Was "user_id is required", or "exactly one multipart field 'file'…" beside a file part.
                throw new Failure.BadRequest(part.name() + ": sent as a file part (with a file name); this endpoint"
                        + " takes one file part, file, and the text field user_id");
            }
        }
        var fields = ctx.request().formAttributes();
        for (String name : fields.names()) {
            if ("file".equals(name)) {
                // Sent without a file name, the part reads as a text field.
                throw new Failure.BadRequest("file: send it as a file part (with filename=… in its"
                        + " Content-Disposition), not as a text field");
            }
            if (!"user_id".equals(name)) {
                throw new Failure.BadRequest(name + ": unknown form field (this endpoint takes: file, user_id"
                        + ("name".equals(name) || "labels".equals(name)
                                ? "; set a file's name or labels with PATCH /api/files/{id} once it is stored"
                                : "")
                        + ")");
            }
        }
        int given = fields.getAll("user_id").size();
        if (given > 1) {
            throw new Failure.BadRequest("user_id: given " + given + " times (this endpoint takes it once)");
        }
    }

    /** A new file of {@code tenant} holding the content of {@code file}, spooled or in memory. */
    private static Received received(UploadBodies.Part file, String tenant, String idempotencyKey, Actor actor) {
        Received received = new Received(
                tenant,
                baseName(file.fileName()),
                file.contentType() == null ? "application/octet-stream" : file.contentType(),
                file.size(),
                file.spooled(),
                idempotencyKey,
                actor);
        return file.bytes() == null ? received : received.inMemory(file.bytes());
    }

    /** The request's one multipart field {@code file}, not empty and within the size limit. */
    private UploadBodies.Part singleFile(RoutingContext ctx) {
        List<UploadBodies.Part> files = UploadBodies.parts(ctx);
        // Named by the field at fault: "exactly one multipart field 'file'…" was said of a body that
        // held one beside a second (a file part of another name is refused by formFields).
        if (files.size() > 1) {
            throw new Failure.BadRequest(
                    "file: given " + files.size() + " times (this endpoint takes one file part, file)");
        }
        if (files.isEmpty()) {
            throw new Failure.BadRequest("exactly one multipart field 'file' holding the content is required");
        }
        UploadBodies.Part file = files.get(0);
        if (file.size() == 0) {
            throw new Failure.BadRequest("file is empty");
        }
        if (file.size() > maxFileBytes) {
            throw new Failure.TooLarge("file is larger than " + maxFileBytes + " bytes");
        }
        return file;
    }

    private void list(RoutingContext ctx) {
        String tenant = Access.caller(ctx).tenantFor(ctx.queryParams().get("user_id"));
        int limit = intParam(ctx, "limit", 50);
        bus.read(
                        IngestAddresses.LIST_FILES,
                        new ListFiles(tenant, limit, ctx.queryParams().get("cursor")).toJson())
                .map(FilePage::fromJson)
                .onSuccess(page -> json(
                        ctx,
                        200,
                        new JsonObject()
                                .put(
                                        "files",
                                        new JsonArray(page.files().stream()
                                                .map(f -> FileJson.publicView(f.toDocument()))
                                                .toList()))
                                .put("next_cursor", page.next())))
                .onFailure(ctx::fail);
    }

    private void get(RoutingContext ctx) {
        bus.read(IngestAddresses.GET_FILE, fileRef(ctx).toJson())
                .onSuccess(doc -> {
                    withEtag(ctx, doc);
                    json(ctx, 200, FileJson.publicView(doc));
                })
                .onFailure(ctx::fail);
    }

    /** {@code GET /api/files/{id}/story}: what each store holds for the file, its issues and its timeline. */
    private void story(RoutingContext ctx) {
        FileRef ref = fileRef(ctx);
        bus.read(ScanAddresses.FILE_STORY, new ScanMessages.StoryQuery(ref.tenantId(), ref.fileId()).toJson())
                .onSuccess(story -> json(ctx, 200, story.put("file", FileJson.publicView(story.getJsonObject("file")))))
                .onFailure(ctx::fail);
    }

    /**
     * {@code GET} (and {@code HEAD}) {@code /api/files/{id}/content}: the current content, its {@code
     * ETag} its sha256 ({@link ContentDownload}).
     */
    private void content(RoutingContext ctx) {
        bus.read(IngestAddresses.GET_FILE, fileRef(ctx).toJson())
                .map(FileRecord::fromDocument)
                .compose(f -> f.status() == FileRecord.Status.ACTIVE
                        ? downloads.send(
                                ctx,
                                new Served(
                                        StoreKeys.blobKey(f.tenantId(), f.partition(), f.id()),
                                        f.name(),
                                        f.sha256(),
                                        f.size(),
                                        contentMissing(f)))
                        : Future.failedFuture(new Failure.NotFound("file " + f.id() + " is deleted")))
                .onFailure(ctx::fail);
    }

    /**
     * What a 404 says of an active file whose object S3 does not hold: the stores disagree (a scan
     * reports it {@code MISSING_BLOB}), which a bare "NoSuchKey" would tell as "no such file".
     */
    private static String contentMissing(FileRecord f) {
        return "the content of file " + f.id() + " is missing from S3 although its"
                + " record is active (MISSING_BLOB): a scan reports it and a repair restores or removes it";
    }

    private void delete(RoutingContext ctx) {
        Long expected = ifMatch(ctx.request().getHeader("If-Match"));
        bus.request(IngestAddresses.DELETE, new DeleteFile(fileRef(ctx), expected).toJson())
                .map(DeleteOutcome::fromJson)
                .onSuccess(outcome -> json(
                        ctx,
                        outcome.done() ? 200 : 202,
                        new JsonObject()
                                .put("status", outcome.done() ? "deleted" : "deleting")
                                .put("operation_id", outcome.opId())
                                .put("file", FileJson.publicView(outcome.file().toDocument()))))
                .onFailure(error -> staleOr(ctx, error));
    }

    private static FileRef fileRef(RoutingContext ctx) {
        return new FileRef(
                Access.caller(ctx).tenantFor(ctx.queryParams().get("user_id")),
                ctx.pathParam("file_id"),
                Access.actor(ctx));
    }

    static int intParam(RoutingContext ctx, String name, int fallback) {
        String raw = ctx.queryParams().get(name);
        if (raw == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw new Failure.BadRequest(
                    name + (raw.matches("[+-]?[0-9]+") ? " is too large" : " must be a whole number"));
        }
    }

    static void json(RoutingContext ctx, int status, JsonObject body) {
        if (!Access.caller(ctx).admin()) {
            body = withoutAddresses(body);
        }
        Answers.end(ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json"), body.encode());
    }

    private static String baseName(String fileName) {
        String name = fileName == null ? "" : fileName.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1).strip();
        return name.isEmpty() ? "unnamed" : name;
    }
}
