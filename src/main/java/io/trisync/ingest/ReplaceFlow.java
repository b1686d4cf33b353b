package io.trisync.ingest;

import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.BeginReplace;
import io.trisync.ingest.IngestMessages.UploadTicket;
import io.trisync.store.ChunkPoint;
import io.trisync.store.ContentVersion;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new version of a file's content as a coordinated write. {@link #begin} records the operation
 * (and checks the file again once it holds it); the receiving node writes the new bytes to a staging
 * key outside the tenant's prefix; {@link #complete} checks them, makes their vectors (nothing is
 * written yet) and commits. Until the commit nothing of the file has changed and an interrupted
 * replacement is undone ({@link #undo}: the staged bytes removed). From the commit on it is rolled
 * forward ({@link #rollForward}), now or by recovery, every step idempotent and guarded by what the
 * stores hold: the current bytes copied to the file's retention path and the new ones over its key,
 * the points replaced, then the record moved to the new sha256, size, version and history (naming
 * this operation) in one conditional write; then the staged copy is removed and {@code file.updated}
 * with the embedding event published. So after any crash the file is wholly the old version or
 * wholly the new one.
 */
final class ReplaceFlow {

    private static final Logger LOG = LoggerFactory.getLogger(ReplaceFlow.class);

    /** Previous versions whose bytes are kept; older ones stay listed in the history without content. */
    static final int RETAINED_VERSIONS = 10;

    /** At most this many versions are listed in a file's history. */
    static final int LISTED_VERSIONS = 100;

    private final Steps steps;

    ReplaceFlow(Steps steps) {
        this.steps = steps;
    }

    /**
     * Records the replacement of a file of the tenant at {@code expectedVersion} (when given), or
     * answers with the file as it is when it already holds these bytes (nothing to do).
     */
    Future<UploadTicket> begin(BeginReplace request) {
        return Steps.notErasing(steps.stores, request.tenantId())
                .compose(v -> steps.admit())
                .compose(v -> steps.stores.metadata().get(request.fileId()))
                .recover(error -> error instanceof Failure.NotFound ? notFound(request) : Future.failedFuture(error))
                .compose(file -> {
                    if (!file.tenantId().equals(request.tenantId()) || file.status() != FileRecord.Status.ACTIVE) {
                        return notFound(request);
                    }
                    if (request.expectedVersion() != null && request.expectedVersion() != file.version()) {
                        return Future.failedFuture(new Failure.StaleVersion(request.expectedVersion(), file.version()));
                    }
                    if (file.sha256().equals(request.sha256())) {
                        return Future.succeededFuture(new UploadTicket(null, file.id(), null, file.toDocument(), null));
                    }
                    return record(request, file);
                });
    }

    private Future<UploadTicket> record(BeginReplace request, FileRecord file) {
        IngestOperation begun = IngestOperation.begin(
                FileIds.next(),
                Kind.REPLACE,
                file.tenantId(),
                file.id(),
                file.partition(),
                file.name(),
                request.contentType(),
                request.size(),
                request.sha256(),
                null,
                steps.nodeId,
                request.incarnation() != null
                        ? request.incarnation()
                        : steps.stores.incarnations().id(),
                request.actor());
        IngestOperation op =
                begun.withLease(Steps.uploadHolder(begun), Instant.now().plus(steps.grace));
        return steps.stores
                .operations()
                .begin(op)
                .recover(error -> error instanceof Failure.Conflict
                        ? Future.failedFuture(new Failure.Conflict("file " + file.id()
                                + " is being uploaded, updated or deleted by another request; try again"))
                        : Future.failedFuture(error))
                .compose(v -> recheck(request, op, file))
                .compose(v -> steps.hooks.after(op, Step.BEGUN))
                .map(v -> new UploadTicket(op.id(), file.id(), op.writeKey(), null, op.toDocument()));
    }

    /**
     * The checks of {@link #begin} made again once the operation holds the file (no other upload,
     * update or delete of it can start now): a write that landed between the first read and the
     * insert makes this one end before it wrote anything, as 412, 404 or 409.
     */
    private Future<Void> recheck(BeginReplace request, IngestOperation op, FileRecord seen) {
        return steps.stores.metadata().get(op.fileId()).compose(now -> {
            Failure stop = null;
            if (now.status() != FileRecord.Status.ACTIVE) {
                stop = new Failure.NotFound("no file " + request.fileId() + " for user_id " + request.tenantId());
            } else if (request.expectedVersion() != null && now.version() != request.expectedVersion()) {
                stop = new Failure.StaleVersion(request.expectedVersion(), now.version());
            } else if (!now.sha256().equals(seen.sha256())) {
                stop = new Failure.Conflict("file " + op.fileId() + " was given another version meanwhile; try again");
            }
            if (stop == null) {
                return Future.succeededFuture();
            }
            Failure failure = stop;
            return steps.stores
                    .operations()
                    .advance(op.id(), Step.ABORTED, failure.getMessage())
                    .transform(v -> Future.failedFuture(failure));
        });
    }

    /** The new content's points, or (null) none yet: the embedding service is down, they are queued. */
    private record Made(ContentIndexer.Indexed indexed) {
        boolean pending() {
            return indexed == null;
        }
    }

    /** Checks the staged bytes, makes their vectors, commits, rolls forward. */
    Future<FileRecord> complete(IngestOperation op) {
        if (op.step() == Step.DONE) {
            return steps.stores.metadata().get(op.fileId());
        }
        if (op.step() != Step.BEGUN) {
            return Future.failedFuture(new Failure.Conflict("operation " + op.id() + " is at step " + op.step()));
        }
        long lease = steps.holdLease(op);
        boolean[] committing = {false};
        return steps.retry
                .run(() -> steps.stores.blobs().read(op.writeKey()))
                .compose(staged -> UploadFlow.verify(op, staged.info())
                        .compose(v -> make(op, staged.bytes()))
                        .compose(made -> steps.pass(op, Step.BLOB_WRITTEN, Future::succeededFuture)
                                .compose(at -> {
                                    committing[0] = true;
                                    return steps.takeHeld(at, Step.COMMITTED);
                                })
                                .compose(at -> steps.stores
                                        .metadata()
                                        .get(op.fileId())
                                        .compose(file -> forward(at, file, made)))))
                .onComplete(done -> steps.vertx.cancelTimer(lease))
                .recover(error -> afterFailure(op, error, committing[0]));
    }

    /**
     * A replacement that failed: undone when it had not committed (the file stays the old version),
     * else finished later, as the stores allow, and the client is told the version is committed.
     * Whether it committed is read from the log; when that read fails, or the commit was sent and its
     * answer lost, the decision is left to a later try ({@link #settle}), never guessed.
     */
    private Future<FileRecord> afterFailure(IngestOperation op, Throwable error, boolean committing) {
        if (error instanceof Steps.LeaseLost) {
            // Recovery took it before the commit and undoes it; staged bytes this node wrote after that
            // undo ran are removed here (the staging key is this operation's own).
            removeStaged(op);
            return Future.failedFuture(error);
        }
        return steps.stores.operations().get(op.id()).transform(read -> {
            if (read.failed()) {
                steps.later(op.id(), "Replacement", this::settle);
                return Future.failedFuture(error);
            }
            IngestOperation now = read.result();
            if (now.step() == Step.COMMITTED) {
                steps.later(op.id(), "Replacement", this::rollForward);
                return Future.failedFuture(new Failure.Unavailable("the new version of file " + op.fileId()
                        + " is committed and completes as the stores return (" + error.getMessage() + ")"));
            }
            if (now.step().terminal()) {
                removeStaged(op);
                return Future.failedFuture(error);
            }
            if (committing) {
                steps.later(op.id(), "Replacement", this::settle);
                return Future.failedFuture(error);
            }
            undo(now).onFailure(e -> steps.later(op.id(), "Undo of replacement", this::settle));
            return Future.failedFuture(error);
        });
    }

    /** An unfinished replacement as the log says it is now: rolled forward once committed, else undone. */
    private Future<?> settle(IngestOperation op) {
        return op.step() == Step.COMMITTED ? rollForward(op) : undo(op);
    }

    private void removeStaged(IngestOperation op) {
        steps.deleteBlobs(List.of(op.writeKey()))
                .onFailure(e -> LOG.warn(
                        "Staged bytes of replacement {} (file {}) not removed: {}",
                        op.id(),
                        op.fileId(),
                        e.getMessage()));
    }

    /** Extracts, chunks and embeds the new content (no store is written). */
    private Future<Made> make(IngestOperation op, Buffer bytes) {
        return steps.embeddingPool
                .executeBlocking(() -> steps.indexer.index(
                        bytes.getBytes(),
                        new ContentIndexer.Target(
                                op.tenantId(), op.fileId(), op.partition(), op.sha256(), op.contentType(), op.name())))
                .map(Made::new)
                .recover(error -> UploadFlow.embedderDown(error)
                        ? Future.succeededFuture(new Made(null))
                        : Future.failedFuture(error));
    }

    /** Takes a committed replacement to DONE from whatever the stores hold (recovery, or a retry). */
    Future<FileRecord> rollForward(IngestOperation op) {
        return steps.stores.metadata().get(op.fileId()).compose(file -> {
            if (moved(op, file)) {
                return finish(op, file);
            }
            return steps.retry
                    .run(() -> steps.stores.blobs().read(op.writeKey()))
                    .compose(staged -> UploadFlow.verify(op, staged.info())
                            .compose(v -> make(op, staged.bytes()))
                            .compose(made -> forward(op, file, made)));
        });
    }

    /** The record already describes this replacement's content (its newest version is this operation's). */
    private static boolean moved(IngestOperation op, FileRecord file) {
        return !file.history().isEmpty() && op.id().equals(file.history().get(0).opId());
    }

    /** The committed part: content, points, record, in that order; then {@link #finish}. */
    private Future<FileRecord> forward(IngestOperation op, FileRecord before, Made made) {
        return moveContent(op, before)
                .compose(etag -> steps.pass(op, Step.VECTORS_WRITTEN, () -> points(op, made))
                        .compose(at -> history(before))
                        .compose(history -> move(op, before, made, etag, history)))
                .compose(after -> steps.hooks
                        .after(op.withStep(Step.METADATA_WRITTEN), Step.METADATA_WRITTEN)
                        .compose(v -> finish(op, after)));
    }

    /**
     * Moves the file's key to the new bytes, keeping the current ones: while the key still holds the
     * content the record names, it is copied to the retention path of its version, then the staged
     * bytes are copied over it. Either copy can be made again; once the key holds the new bytes both
     * are skipped. Completes with the new object's ETag, checked to be the new content's.
     */
    private Future<String> moveContent(IngestOperation op, FileRecord before) {
        String key = op.blobKey();
        return steps.retry
                .run(() -> steps.stores.blobs().head(key))
                .recover(error ->
                        error instanceof Failure.NotFound ? Future.succeededFuture(null) : Future.failedFuture(error))
                .compose(current -> {
                    if (current != null && op.sha256().equals(current.sha256())) {
                        return Future.succeededFuture(current.etag());
                    }
                    boolean keep = current != null && before.sha256().equals(current.sha256());
                    if (!keep) {
                        LOG.warn(
                                "File {} did not hold its version {} when replaced; that version is not retained",
                                op.fileId(),
                                before.contentVersion());
                    }
                    Future<Void> kept = keep
                            ? steps.retry.run(() -> steps.stores
                                    .blobs()
                                    .copy(
                                            key,
                                            StoreKeys.versionKey(op.tenantId(), op.fileId(), before.contentVersion())))
                            : Future.succeededFuture();
                    return kept.compose(v ->
                                    steps.retry.run(() -> steps.stores.blobs().copy(op.writeKey(), key)))
                            .compose(v ->
                                    steps.retry.run(() -> steps.stores.blobs().head(key)))
                            .compose(written -> op.sha256().equals(written.sha256())
                                    ? Future.succeededFuture(written.etag())
                                    : Future.failedFuture(new Failure.Unavailable(
                                            "s3",
                                            "file " + op.fileId() + " changed while its new version was copied",
                                            null)));
                });
    }

    /**
     * The new content's points written over the old ones (ids derive from the file and chunk number),
     * then every point of the file that is not one of them removed. With the vectors pending: every
     * point removed (the job that makes them is queued once the record says pending, in {@link #finish}).
     */
    private Future<Void> points(IngestOperation op, Made made) {
        if (made.pending()) {
            return steps.stores.vectors().deleteFile(op.tenantId(), op.fileId());
        }
        List<ChunkPoint> fresh = made.indexed().points();
        return steps.upsertPoints(fresh)
                .compose(v -> steps.stores.vectors().pointsOf(op.tenantId(), op.fileId()))
                .compose(all -> {
                    List<UUID> stale = new ArrayList<>();
                    for (ChunkPoint p : all) {
                        if (p.chunk() >= fresh.size() || !op.sha256().equals(p.contentSha256())) {
                            stale.add(p.id());
                        }
                    }
                    return stale.isEmpty()
                            ? Future.succeededFuture()
                            : steps.stores.vectors().delete(stale);
                });
    }

    /** The file's history as it stands, with who uploaded its first version when the log still says. */
    private Future<List<ContentVersion>> history(FileRecord file) {
        if (!file.history().isEmpty()) {
            return Future.succeededFuture(file.history());
        }
        return steps.stores.operations().uploadOf(file.id()).map(upload -> {
            ContentVersion first = file.contentVersions().get(0);
            return List.of(new ContentVersion(
                    first.version(),
                    first.sha256(),
                    first.size(),
                    first.contentType(),
                    first.at(),
                    upload == null ? null : upload.actor().subject(),
                    true,
                    null));
        });
    }

    /**
     * Moves the record to the new content in one write conditioned on its old sha256 and version: a
     * metadata edit that lands in between makes it read the record again and write over the version
     * the edit made. Completes with the record as written.
     */
    private Future<FileRecord> move(
            IngestOperation op, FileRecord file, Made made, String etag, List<ContentVersion> history) {
        long version = file.version() + 1;
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<ContentVersion> versions = new ArrayList<>();
        versions.add(new ContentVersion(
                version,
                op.sha256(),
                op.size(),
                op.contentType(),
                now,
                op.actor().subject(),
                true,
                op.id()));
        for (int i = 0; i < history.size() && versions.size() < LISTED_VERSIONS; i++) {
            versions.add(history.get(i)
                    .superseded(i < RETAINED_VERSIONS && history.get(i).retained()));
        }
        FileRecord.Embedding embedding = made.pending()
                ? FileRecord.Embedding.pending(steps.indexer.modelName(), steps.indexer.dimension())
                : new FileRecord.Embedding(
                        steps.indexer.modelName(),
                        steps.indexer.dimension(),
                        made.indexed().points().size(),
                        op.sha256(),
                        made.indexed().failure());
        FileRecord moved = new FileRecord(
                file.id(),
                file.tenantId(),
                file.name(),
                op.contentType(),
                op.size(),
                op.sha256(),
                FileRecord.Status.ACTIVE,
                version,
                file.partition(),
                embedding,
                file.createdAt(),
                now,
                null,
                etag,
                file.labels(),
                versions);
        JsonObject doc = moved.toDocument();
        JsonObject set = new JsonObject();
        for (String field : List.of("contentType", "size", "sha256", "embedding", "blobEtag", FileRecord.HISTORY)) {
            set.put(field, doc.getValue(field));
        }
        JsonObject expected = new JsonObject().put("sha256", file.sha256()).put("version", file.version());
        return steps.retry
                .run(() -> steps.stores.metadata().patch(file.id(), expected, set))
                .compose(won -> steps.stores.metadata().get(file.id()).compose(after -> {
                    if (moved(op, after)) {
                        return Future.succeededFuture(after);
                    }
                    if (won || !after.sha256().equals(file.sha256())) {
                        return Future.failedFuture(new Failure.Conflict(
                                "file " + file.id() + " changed while its new version was written"));
                    }
                    // A metadata edit came first: write over the version it made.
                    return move(op, after, made, etag, history);
                }));
    }

    /**
     * The end of a replacement whose record is moved: its vectors queued when they are pending, the
     * staged copy and the bytes of versions no longer retained removed, events published, DONE.
     */
    private Future<FileRecord> finish(IngestOperation op, FileRecord file) {
        List<String> dropped = new ArrayList<>();
        dropped.add(op.writeKey());
        for (ContentVersion v : file.history()
                .subList(Math.min(1, file.history().size()), file.history().size())) {
            if (!v.retained()) {
                dropped.add(StoreKeys.versionKey(file.tenantId(), file.id(), v.version()));
            }
        }
        ContentVersion previous = file.history().size() > 1 ? file.history().get(1) : null;
        JsonObject data = new JsonObject()
                .put("name", file.name())
                .put("version", file.version())
                .put("previous_version", previous == null ? null : previous.version())
                .put("sha256", file.sha256())
                .put("size", file.size())
                .put("contentType", file.contentType())
                .put("by", op.actor().subject());
        Future<Void> queued = file.embedding() != null && file.embedding().pending()
                ? steps.stores
                        .indexQueue()
                        .enqueue(IndexJob.of(op.fileId(), op.tenantId(), op.partition(), Instant.now()))
                : Future.succeededFuture();
        return queued.compose(v -> steps.deleteBlobs(dropped))
                .compose(v -> steps.publishAndEnd(
                        op,
                        List.of(
                                new Draft(EventTypes.FILE_UPDATED, op.fileId(), op.id(), data),
                                steps.embeddingEvent(op, file))))
                .map(file);
    }

    /**
     * Undoes a replacement that did not commit: the file is still wholly its old version (nothing of
     * it is written before the commit); the staged bytes are removed, then, if the log still says it
     * did not commit, it is ABORTED. The removal is idempotent.
     */
    Future<Void> undo(IngestOperation op) {
        if (op.step() == Step.COMMITTED || op.step().terminal()) {
            return Future.succeededFuture();
        }
        return steps.deleteBlobs(List.of(op.writeKey()))
                .compose(v -> steps.stores.operations().get(op.id()))
                .compose(now -> now.step() == Step.COMMITTED || now.step().terminal()
                        ? Future.<Void>succeededFuture()
                        : steps.stores.operations().advance(op.id(), Step.ABORTED, op.lastError()))
                .onFailure(steps.breaker::record);
    }

    private static <T> Future<T> notFound(BeginReplace request) {
        return Future.failedFuture(
                new Failure.NotFound("no file " + request.fileId() + " for user_id " + request.tenantId()));
    }
}
