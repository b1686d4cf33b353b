package io.trisync.ingest;

import io.trisync.bus.ClusterBus;
import io.trisync.ingest.IngestMessages.BeginUpload;
import io.trisync.ingest.IngestMessages.OperationRef;
import io.trisync.ingest.IngestMessages.UploadTicket;
import io.trisync.metrics.Metrics;
import io.trisync.store.Actor;
import io.trisync.store.BlobInfo;
import io.trisync.store.BlobStore;
import io.trisync.store.Buffers;
import io.trisync.store.IngestOperation;
import io.trisync.store.Retry;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

/**
 * The receiving node's part of the upload saga: hashes the body the HTTP server spooled to disk,
 * asks an ingest verticle to record the operation ({@link IngestAddresses#BEGIN_UPLOAD}, or {@link
 * IngestAddresses#BEGIN_REPLACE} for a new version of a file), sends the bytes from this node
 * straight to S3 (a small body from memory, a larger one streamed from the spool file; they never
 * travel on the event bus), then has the operation completed with the uploads whose blobs this node
 * wrote at about the same moment ({@link Cohorts}, {@link IngestAddresses#COMPLETE_UPLOADS}) or,
 * when the blob could not be written, undone ({@link
 * IngestAddresses#ABORT_UPLOAD}).
 */
public final class Receiver {

    /** How much longer than the answer's deadline a cohort's completion request may take. */
    static final long COMPLETE_MARGIN_MS = 15_000;

    private final Vertx vertx;
    private final BlobStore blobs;
    private final Retry retry;
    private final long requestTimeoutMs;
    /** This node process: it holds an upload's operation while it streams the bytes to S3. */
    private final String incarnation;

    private final Metrics metrics;
    private final Cohorts cohorts;

    /**
     * {@code answerWithinMs}: how long an upload's completion may run before its request is answered
     * as accepted and still completing ({@code INGEST_ANSWER_WITHIN_SECONDS}).
     */
    public Receiver(
            Vertx vertx,
            BlobStore blobs,
            long requestTimeoutMs,
            long answerWithinMs,
            String incarnation,
            Metrics metrics) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.blobs = blobs;
        this.retry = Retry.forWrites(vertx);
        this.requestTimeoutMs = requestTimeoutMs;
        this.incarnation = incarnation;
        this.cohorts = Cohorts.of(vertx, answerWithinMs + COMPLETE_MARGIN_MS);
    }

    /**
     * One upload the HTTP server has received in full: its content spooled at {@code path}, or held
     * in memory as {@code content} (a small body, which then touches no disk on this node). With a
     * {@code fileId} it is a new version of that file (at {@code expectedVersion} when not null),
     * else a new file.
     */
    public record Received(
            String tenantId,
            String name,
            String contentType,
            long size,
            Path path,
            Buffer content,
            String idempotencyKey,
            Actor actor,
            String fileId,
            Long expectedVersion) {

        /** A new file, spooled at {@code path}. */
        public Received(
                String tenantId,
                String name,
                String contentType,
                long size,
                Path path,
                String idempotencyKey,
                Actor actor) {
            this(tenantId, name, contentType, size, path, null, idempotencyKey, actor, null, null);
        }

        /** The same upload with its content held in memory instead of spooled. */
        public Received inMemory(Buffer bytes) {
            return new Received(
                    tenantId, name, contentType, size, null, bytes, idempotencyKey, actor, fileId, expectedVersion);
        }

        /** The same upload as a new version of {@code file}, over {@code version} when not null. */
        public Received replacing(String file, Long version) {
            return new Received(tenantId, name, contentType, size, path, content, idempotencyKey, actor, file, version);
        }

        JsonObject begin(String sha256, String incarnation) {
            return fileId == null
                    ? new BeginUpload(tenantId, name, contentType, size, sha256, idempotencyKey, incarnation, actor)
                            .toJson()
                    : new IngestMessages.BeginReplace(
                                    tenantId, fileId, expectedVersion, contentType, size, sha256, incarnation, actor)
                            .toJson();
        }
    }

    /** Stores {@code upload} in the three stores; completes with the file's record (an earlier one for a repeated key). */
    public Future<JsonObject> receive(Received upload) {
        long started = System.nanoTime();
        boolean[] replayed = {false};
        Future<Spooled> body = upload.content() != null
                ? Future.succeededFuture(new Spooled(Buffers.sha256Hex(upload.content()), upload.content()))
                : vertx.executeBlocking(() -> spooled(upload), false);
        return body.compose(spooled -> {
                    long asked = System.nanoTime();
                    return request(
                                    upload.fileId() == null
                                            ? IngestAddresses.BEGIN_UPLOAD
                                            : IngestAddresses.BEGIN_REPLACE,
                                    upload.begin(spooled.sha256(), incarnation),
                                    requestTimeoutMs)
                            .map(UploadTicket::fromJson)
                            .andThen(begun -> {
                                if (begun.failed() || begun.result().existing() == null) {
                                    stage(upload, "begin", asked);
                                }
                            })
                            .compose(ticket -> {
                                replayed[0] = ticket.existing() != null;
                                return replayed[0]
                                        ? Future.succeededFuture(ticket.existing())
                                        : store(ticket, upload, spooled);
                            });
                })
                .andThen(done -> metrics.ingest(
                        upload.fileId() == null ? "upload" : "replace",
                        done.failed()
                                ? "error"
                                : replayed[0] ? "replayed" : accepted(done.result()) ? "accepted" : "ok",
                        System.nanoTime() - started));
    }

    private Future<JsonObject> store(UploadTicket ticket, Received upload, Spooled spooled) {
        Map<String, String> metadata = Map.of(BlobInfo.SHA256, spooled.sha256());
        cohorts.writing(upload.size());
        long putting = System.nanoTime();
        // Started inside a future, so that a put that throws at once still fails it and is left.
        return Future.<Void>succeededFuture()
                .compose(v -> retry.run(() -> spooled.bytes() != null
                        ? blobs.putBytes(ticket.blobKey(), spooled.bytes(), upload.contentType(), metadata)
                        : blobs.putFile(ticket.blobKey(), upload.path(), upload.contentType(), metadata)))
                .andThen(put -> stage(upload, "blob_put", putting))
                .onFailure(error -> cohorts.left(upload.size()))
                .recover(error -> request(
                                IngestAddresses.ABORT_UPLOAD,
                                new OperationRef(ticket.opId(), "blob not written: " + error.getMessage()).toJson(),
                                requestTimeoutMs)
                        .transform(ignored -> Future.failedFuture(error)))
                .compose(blob -> complete(ticket, upload, spooled, blob)
                        .recover(error -> ClusterBus.departed(error)
                                ? request(
                                        IngestAddresses.SETTLE_UPLOAD,
                                        new OperationRef(ticket.opId(), "its completing node left").toJson(),
                                        requestTimeoutMs)
                                : Future.failedFuture(error))
                        .map(done -> done.containsKey(COMPLETING) ? accepted(done, ticket, upload, spooled) : done));
    }

    /** The field of a completion's answer naming an operation still completing after the request's time. */
    private static final String COMPLETING = "completing";

    /** The answer for an upload whose operation {@code opId} was still completing when its request's time ran out. */
    static JsonObject completing(String opId) {
        return new JsonObject().put(COMPLETING, opId);
    }

    /**
     * Whether {@code answer} is not a file record but an upload accepted and still completing
     * (embedding a large file takes longer than a request may): its file id, operation id, name, size
     * and sha256, to be fetched later by id; its operation commits or undoes it as for any upload.
     */
    public static boolean accepted(JsonObject answer) {
        return answer.containsKey(COMPLETING);
    }

    private static JsonObject accepted(JsonObject answer, UploadTicket ticket, Received upload, Spooled spooled) {
        return answer.put("fileId", ticket.fileId())
                .put(
                        "tenantId",
                        ticket.operation() == null
                                ? upload.tenantId()
                                : ticket.operation().getString(IngestOperation.TENANT_ID))
                // A new version keeps the file's name, which its operation carries.
                .put(
                        "name",
                        ticket.operation() == null
                                ? upload.name()
                                : ticket.operation().getString(IngestOperation.NAME))
                .put("size", upload.size())
                .put("sha256", spooled.sha256())
                .put("replacing", upload.fileId() != null);
    }

    /**
     * Has the operation completed, with the others of its cohort ({@link Cohorts}). A body held in
     * memory is lent to the completing step while it runs ({@link HeldBodies}): in this process it
     * reads the bytes from there, with no spool file to read back and no download.
     */
    private Future<JsonObject> complete(UploadTicket ticket, Received upload, Spooled spooled, BlobInfo blob) {
        if (spooled.bytes() != null) {
            HeldBodies.lend(ticket.opId(), new HeldBodies.Body(spooled.bytes(), spooled.sha256()));
        }
        long asked = System.nanoTime();
        return cohorts.complete(
                        new OperationRef(
                                ticket.opId(),
                                null,
                                ticket.operation(),
                                new IngestMessages.Staged(
                                        upload.path() == null
                                                ? null
                                                : upload.path().toString(),
                                        incarnation,
                                        blob.etag())),
                        upload.size())
                .andThen(done -> {
                    stage(upload, "completion", asked);
                    HeldBodies.takeBack(ticket.opId());
                });
    }

    /**
     * Times {@code stage} of a new file's upload, begun at {@code since} ({@link System#nanoTime}). A
     * new version's stages are not timed: another flow completes it, which times none of its own.
     */
    private void stage(Received upload, String stage, long since) {
        if (upload.fileId() == null) {
            metrics.uploadStage(stage, System.nanoTime() - since);
        }
    }

    private Future<JsonObject> request(String address, JsonObject body, long timeoutMs) {
        // Spread over the ingest nodes (the embedding work is the expensive part); a node that leaves
        // while it holds a step fails the upload at once with a retriable 503.
        return ClusterBus.of(vertx).request(address, body, timeoutMs, ClusterBus.Target.SPREAD, false);
    }

    /**
     * Bodies up to this size are read into memory once, hashed and put to S3 from there; larger ones
     * are hashed and put from the spool file in pieces. A small file is then read once instead of
     * twice (for the hash, then again by the SDK's file-backed request body).
     */
    static final int IN_MEMORY_PUT_BYTES = 256 * 1024;

    /** A spooled body's hash, and its bytes when it is small enough to put from memory. */
    private record Spooled(String sha256, Buffer bytes) {}

    private static Spooled spooled(Received upload) throws Exception {
        if (upload.size() <= IN_MEMORY_PUT_BYTES) {
            byte[] bytes = Files.readAllBytes(upload.path());
            if (bytes.length <= IN_MEMORY_PUT_BYTES) {
                return new Spooled(StoreKeys.sha256Hex(bytes), Buffer.buffer(bytes));
            }
        }
        return new Spooled(sha256(upload.path()), null);
    }

    private static String sha256(Path path) throws Exception {
        MessageDigest digest = StoreKeys.sha256Digest();
        try (InputStream in = Files.newInputStream(path)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
