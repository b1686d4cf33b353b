package io.trisync.ingest;

import io.trisync.embedding.OpenAiEmbeddingModel;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.BeginUpload;
import io.trisync.ingest.IngestMessages.UploadTicket;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.OperationLog;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upload as a coordinated write. {@link #begin} records the operation before anything is
 * written; the receiving node then writes the blob; {@link #complete} verifies it, writes the
 * metadata (active), embeds and upserts the chunks, commits and publishes. Anything that fails before
 * the commit is undone by {@link #undo}, now or by recovery, so an unacknowledged upload leaves no
 * blob, no record and no point. A file whose text extraction fails is still stored (blob and
 * metadata: the user's bytes are kept) with zero chunks and the failure recorded on its embedding,
 * and gets {@code embedding.failed} instead of {@code embedding.created}.
 */
final class UploadFlow {

    private static final Logger LOG = LoggerFactory.getLogger(UploadFlow.class);

    private final Steps steps;
    private final PromisedUploads promised;

    UploadFlow(Steps steps) {
        this.steps = steps;
        this.promised = new PromisedUploads(steps, this);
    }

    /** The uploads answered 202 {@code completing}: rolled forward where others are undone. */
    PromisedUploads promised() {
        return promised;
    }

    Future<UploadTicket> begin(BeginUpload request) {
        return Steps.notErasing(steps.stores, request.tenantId())
                .compose(v -> steps.admit())
                .compose(v -> recordOrReplay(request));
    }

    /** Records a new upload, or answers with the one an earlier request with the same key made. */
    private Future<UploadTicket> recordOrReplay(BeginUpload request) {
        if (request.idempotencyKey() == null) {
            return record(request);
        }
        return steps.stores
                .operations()
                .keyHolder(request.tenantId(), request.idempotencyKey())
                .compose(holder -> holder == null
                        ? record(request)
                        : holder.operation() == null
                                ? unrecorded(request, holder)
                                : replay(request, holder.operation()));
    }

    /**
     * The key names an operation that is not recorded: its begin is between its two writes (a request
     * with the same key at the same moment), so this one is told it is in progress, as for a begun
     * upload; or that begin was cut off there (its process is gone, or the key is older than the grace
     * period), so nothing was stored under the key. Then this request records its upload under that
     * operation's id ({@link OperationLog#recordClaimed}) rather than free the key: should the first
     * begin's write still land (a process judged gone that was not, a write queued longer than the
     * grace period), it fails as a duplicate instead of making a second file under the key; if it landed
     * first, this one is refused as a duplicate, reads the key again and is answered from it.
     */
    private Future<UploadTicket> unrecorded(BeginUpload request, OperationLog.KeyHolder holder) {
        Future<Boolean> cutOff = holder.claimedAt().isBefore(Instant.now().minus(steps.grace))
                ? Future.succeededFuture(true)
                : holder.incarnation() == null
                        ? Future.succeededFuture(false)
                        : steps.stores
                                .incarnations()
                                .goneAmong(List.of(holder.incarnation()))
                                .map(gone -> gone.containsKey(holder.incarnation()));
        return cutOff.compose(free -> free
                ? record(request, holder.opId())
                : Future.failedFuture(new Failure.Conflict("an upload with this Idempotency-Key is still in progress"
                        + " (operation " + holder.opId() + ")")));
    }

    private Future<UploadTicket> replay(BeginUpload request, IngestOperation existing) {
        if (existing.step() != Step.ABORTED
                && !(request.sha256().equals(existing.sha256())
                        && request.name().equals(existing.name()))) {
            // The key stands for one request: another file under it is a client's mistake, not a retry.
            return Future.failedFuture(new Failure.Unprocessable("Idempotency-Key " + request.idempotencyKey()
                    + " was sent with another file (name " + existing.name() + ", sha256 " + existing.sha256()
                    + "); a new upload needs a new key"));
        }
        if (existing.step() == Step.COMMITTED || existing.step() == Step.DONE) {
            // Committed: the three stores hold the file (its end may still be on its way).
            return steps.stores
                    .metadata()
                    .get(existing.fileId())
                    .map(file -> new UploadTicket(
                            existing.id(), existing.fileId(), existing.blobKey(), file.toDocument(), null));
        }
        if (existing.step() == Step.ABORTED) {
            return steps.stores
                    .operations()
                    .releaseKey(request.tenantId(), request.idempotencyKey(), existing.id())
                    .compose(v -> record(request));
        }
        return Future.failedFuture(new Failure.Conflict(
                "an upload with this Idempotency-Key is still in progress (operation " + existing.id() + ")"));
    }

    private Future<UploadTicket> record(BeginUpload request) {
        return record(request, null);
    }

    /** Records a new upload; under {@code claimedId}, the id its key names already, when not null. */
    private Future<UploadTicket> record(BeginUpload request, String claimedId) {
        String fileId = FileIds.next();
        String opId = claimedId != null ? claimedId : FileIds.next();
        IngestOperation begun = IngestOperation.begin(
                opId,
                Kind.UPLOAD,
                request.tenantId(),
                fileId,
                StoreKeys.partition(fileId, steps.partitions),
                request.name(),
                request.contentType(),
                request.size(),
                request.sha256(),
                request.idempotencyKey(),
                steps.nodeId,
                request.incarnation() != null
                        ? request.incarnation()
                        : steps.stores.incarnations().id(),
                request.actor());
        IngestOperation op =
                begun.withLease(Steps.uploadHolder(begun), Instant.now().plus(steps.grace));
        return (claimedId != null
                        ? steps.stores.operations().recordClaimed(op)
                        : steps.stores.operations().begin(op))
                .map(v -> new UploadTicket(op.id(), fileId, op.blobKey(), null, op.toDocument()))
                .recover(error -> error instanceof Failure.Conflict && request.idempotencyKey() != null
                        ? begin(request)
                        : Future.failedFuture(error));
    }

    /**
     * Verifies the blob, then writes metadata and vectors together, commits, publishes. Completes with
     * the file record. {@code staged}: where the receiving node still holds the bytes, or null.
     */
    Future<FileRecord> complete(IngestOperation op, IngestMessages.Staged staged) {
        if (op.step() == Step.COMMITTED || op.step() == Step.DONE) {
            return steps.stores.metadata().get(op.fileId());
        }
        if (op.step() != Step.BEGUN) {
            return Future.failedFuture(new Failure.Conflict("operation " + op.id() + " is at step " + op.step()));
        }
        long lease = steps.holdLease(op);
        return Steps.whole(op.size(), () -> steps.retry
                        .run(() -> steps.written(op, op.blobKey(), staged))
                        .compose(content -> verify(op, content.info())
                                .compose(v -> steps.pass(op, Step.BLOB_WRITTEN, Future::succeededFuture))
                                .compose(at -> index(
                                        at, content.bytes(), content.info().etag()))))
                .onComplete(done -> steps.vertx.cancelTimer(lease))
                .recover(error -> {
                    if (error instanceof Steps.LeaseLost) {
                        removeOwnWrites(op);
                        return Future.failedFuture(error);
                    }
                    // Read afresh: a failure after the commit (its events not logged) is not undone
                    // but finished, as the store returns. Answered once undone: a retry sent on the
                    // answer (its Idempotency-Key) finds the upload ended, not 409.
                    return steps.settleFailure(op.id(), () -> steps.stores
                                    .operations()
                                    .get(op.id())
                                    .compose(this::undoOrFinish)
                                    .onFailure(e -> {
                                        LOG.warn(
                                                "Upload {} of file {} for tenant {} failed ({}) and could not be undone now: {};"
                                                        + " trying again as the store returns",
                                                op.id(),
                                                op.fileId(),
                                                op.tenantId(),
                                                error.getMessage(),
                                                e.getMessage());
                                        steps.later(
                                                op.id(),
                                                "Undo of upload",
                                                later -> later.step() == Step.COMMITTED ? finish(later) : undo(later));
                                    }))
                            .transform(settled -> Future.<FileRecord>failedFuture(error));
                });
    }

    private Future<FileRecord> index(IngestOperation op, Buffer bytes, String etag) {
        if (Steps.alone(bytes)) {
            return indexAlone(op, bytes, etag);
        }
        long indexing = System.nanoTime();
        return steps.index(op, bytes)
                .andThen(indexed -> steps.metrics.uploadStage("index", System.nanoTime() - indexing))
                .compose(
                        indexed ->
                                writeAll(op, indexed.points(), indexed.points().size(), indexed.failure(), etag),
                        error -> embedderDown(error)
                                ? writePending(op, etag, error.getMessage())
                                : Future.failedFuture(error));
    }

    /**
     * A large file's points upserted a batch at a time as they are made ({@link Steps#indexInBatches}),
     * then its record written with their count. Before the commit, like the points of a small file:
     * an undo removes them all by the file's filter. When the embedding service goes down part way,
     * or refuses a chunk, the points written so far are removed first, and the file is stored pending
     * or without search, as when its points are made all at once.
     */
    private Future<FileRecord> indexAlone(IngestOperation op, Buffer bytes, String etag) {
        long indexing = System.nanoTime();
        return steps.indexInBatches(Steps.target(op), bytes)
                .andThen(streamed -> steps.metrics.uploadStage("index", System.nanoTime() - indexing))
                .transform(streamed -> {
                    if (streamed.succeeded() && !streamed.result().failed()) {
                        return writeAll(op, List.of(), streamed.result().chunks(), null, etag);
                    }
                    if (streamed.failed() && !embedderDown(streamed.cause())) {
                        return Future.failedFuture(streamed.cause());
                    }
                    return steps.retry
                            .run(() -> steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()))
                            .compose(v -> streamed.failed()
                                    ? writePending(op, etag, streamed.cause().getMessage())
                                    : writeAll(
                                            op, List.of(), 0, streamed.result().failure(), etag));
                });
    }

    /** The embedding service could not make the vectors now (the content itself was not refused). */
    static boolean embedderDown(Throwable error) {
        return error instanceof Failure.Unavailable u && OpenAiEmbeddingModel.SOURCE.equals(u.source());
    }

    /**
     * The upload without its vectors: the record says they are pending, a job in the index queue
     * (written before the commit, so a committed pending file always has one) makes them once the
     * embedding service answers. Acknowledged as pending.
     */
    private Future<FileRecord> writePending(IngestOperation op, String etag, String why) {
        return writePending(op, Steps.uploadHolder(op), etag, "the embedding service is unavailable: " + why);
    }

    /**
     * {@link #writePending(IngestOperation, String, String)} committed under the lease {@code holder}
     * holds: recovery's, when it rolls forward an upload answered 202 ({@link PromisedUploads}).
     */
    Future<FileRecord> writePending(IngestOperation op, String holder, String etag, String why) {
        FileRecord record =
                record(op, FileRecord.Embedding.pending(steps.indexer.modelName(), steps.indexer.dimension()), etag);
        long writing = System.nanoTime();
        return steps.pass(
                        op,
                        Step.METADATA_WRITTEN,
                        () -> steps.stores.metadata().upsert(record).compose(v -> steps.stores
                                .indexQueue()
                                .enqueue(IndexJob.of(op.fileId(), op.tenantId(), op.partition(), Instant.now()))))
                .andThen(written -> steps.metrics.uploadStage("writes", System.nanoTime() - writing))
                .compose(at -> steps.pass(at, Step.VECTORS_WRITTEN, Future::succeededFuture))
                .compose(at -> steps.commitAndPublish(at, holder, events(at, record)))
                .onSuccess(v -> LOG.warn(
                        "File {} of tenant {} is stored; its vectors are pending ({})",
                        op.fileId(),
                        op.tenantId(),
                        why))
                .map(record);
    }

    /**
     * The record (of {@code chunks} points, or of {@code failure}) and {@code points} (none when they
     * were written as they were made), then the commit.
     */
    private Future<FileRecord> writeAll(
            IngestOperation op, List<ChunkPoint> points, int chunks, String failure, String etag) {
        FileRecord record = record(
                op,
                new FileRecord.Embedding(
                        steps.indexer.modelName(), steps.indexer.dimension(), chunks, op.sha256(), failure),
                etag);
        // The record and the points go out together: before the commit, recovery undoes both alike,
        // so their order does not matter, and the upload waits for the slower of the two, not the sum.
        // Both are waited for even when one fails (join, not all): an undo that began while the other
        // was in flight could remove it first and then have it land, a record or points left behind.
        long writing = System.nanoTime();
        return steps.pass(
                        op,
                        Step.METADATA_WRITTEN,
                        () -> Future.join(steps.stores.metadata().upsert(record), steps.upsertPoints(points)))
                .andThen(written -> steps.metrics.uploadStage("writes", System.nanoTime() - writing))
                .compose(at -> steps.pass(at, Step.VECTORS_WRITTEN, Future::succeededFuture))
                .compose(at -> steps.commitAndPublish(at, events(at, record)))
                .onSuccess(v -> {
                    if (failure != null) {
                        LOG.warn(
                                "File {} ({}) of tenant {} is stored without search: text extraction failed: {}",
                                record.id(),
                                record.name(),
                                record.tenantId(),
                                failure);
                    }
                })
                .map(record);
    }

    /** The new file's record, as the upload commits it. */
    private FileRecord record(IngestOperation op, FileRecord.Embedding embedding, String etag) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new FileRecord(
                op.fileId(),
                op.tenantId(),
                op.name(),
                op.contentType(),
                op.size(),
                op.sha256(),
                FileRecord.Status.ACTIVE,
                1,
                op.partition(),
                embedding,
                now,
                now,
                null,
                etag);
    }

    /**
     * The end of an upload that committed but was not ended by its flow (its node fell, or its
     * events could not be logged): its events, unless they are logged already, then DONE. The upload
     * freed its file at the commit, so a delete or a new version may have followed: a record that is
     * gone, deleted or no longer the uploaded content ends it without them (they would announce a
     * file that is not there any more, after its deletion's events).
     */
    Future<Void> finish(IngestOperation op) {
        return steps.endUnlessLogged(op, () -> steps.stores
                .metadata()
                .get(op.fileId())
                .compose(file -> superseded(op, file)
                        ? steps.stores.operations().advance(op.id(), Step.DONE, "superseded before its events")
                        : steps.publishAndEnd(op, events(op, file)))
                .recover(error -> error instanceof Failure.NotFound
                        ? steps.stores.operations().advance(op.id(), Step.DONE, "record gone")
                        : Future.failedFuture(error)));
    }

    /**
     * Whether {@code file} is no longer what upload {@code op} committed: deleted, or a later content
     * version (the record's own version counts metadata edits, such as the vectors of a pending
     * upload being made, and does not tell).
     */
    private static boolean superseded(IngestOperation op, FileRecord file) {
        return file.status() == FileRecord.Status.DELETED
                || file.contentVersion() != 1
                || !op.sha256().equals(file.sha256());
    }

    /**
     * {@code file.uploaded} and {@code embedding.created} (or {@code embedding.failed} when the record
     * holds an extraction failure, {@code embedding.pending} when its vectors wait in the index queue).
     */
    private List<Draft> events(IngestOperation op, FileRecord record) {
        JsonObject file = new JsonObject()
                .put("name", record.name())
                .put("size", record.size())
                .put("sha256", record.sha256())
                .put("contentType", record.contentType());
        return List.of(
                new Draft(EventTypes.FILE_UPLOADED, op.fileId(), op.id(), file), steps.embeddingEvent(op, record));
    }

    static Future<Void> verify(IngestOperation op, BlobInfo blob) {
        if (blob.size() != op.size() || !op.sha256().equals(blob.sha256())) {
            return Future.failedFuture(new Failure.Conflict("blob " + op.writeKey()
                    + " does not match the upload (size " + blob.size() + ", expected " + op.size() + ")"));
        }
        return Future.succeededFuture();
    }

    /**
     * After recovery took the operation (it judged this upload's node gone, or its lease ran out),
     * removes what this node wrote after the claimant may already have undone the upload: its points,
     * its record and its blob. The operation itself, and the idempotency key the claimant released
     * (a retry may hold it now), are the claimant's. An upload answered 202 {@code completing} keeps
     * its writes: the claimant rolls it forward from its blob.
     */
    private void removeOwnWrites(IngestOperation op) {
        steps.stores.operations().get(op.id()).onComplete(now -> {
            if (now.succeeded() && !now.result().promised()) {
                removeWrites(op);
                return;
            }
            // Answered 202: the claimant rolls it forward from the blob, so nothing of it is removed.
            LOG.warn(
                    "Upload {} of file {} for tenant {} was taken over by recovery before it committed; its writes are"
                            + " left to the claimant ({})",
                    op.id(),
                    op.fileId(),
                    op.tenantId(),
                    now.succeeded()
                            ? "it was answered 202 completing and is rolled forward"
                            : "the operation could not be read: " + now.cause().getMessage());
        });
    }

    private void removeWrites(IngestOperation op) {
        LOG.warn(
                "Upload {} of file {} for tenant {} was taken over by recovery before it committed; removing its writes",
                op.id(),
                op.fileId(),
                op.tenantId());
        steps.retry
                .run(() -> steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()))
                .compose(v -> steps.retry.run(() -> steps.stores.metadata().remove(op.fileId())))
                .compose(v -> steps.retry.run(() -> steps.stores.blobs().delete(op.blobKey())))
                .onFailure(e -> LOG.warn(
                        "Writes of upload {} (file {}) could not all be removed: {}; a scan will report them",
                        op.id(),
                        op.fileId(),
                        e.getMessage()));
    }

    private Future<Void> undoOrFinish(IngestOperation op) {
        if (op.step() == Step.COMMITTED) {
            LOG.warn(
                    "Upload {} of file {} for tenant {} committed but its events could not be logged now;"
                            + " logging them as the store returns",
                    op.id(),
                    op.fileId(),
                    op.tenantId());
            steps.later(op.id(), "End of upload", this::finish);
            return Future.succeededFuture();
        }
        if (op.step() == Step.ABORTED) {
            // Undone by recovery while this node still wrote (a large file's batches of points go on
            // for minutes): what it wrote after the undo goes too.
            removeWrites(op);
            return Future.succeededFuture();
        }
        return undo(op);
    }

    /** Undoes an upload whose receiving node could not write its blob, now or as the stores return. */
    Future<Void> abort(IngestOperation op) {
        return steps.undoNowOrLater(op, "Undo of upload", this::undo);
    }

    /**
     * Undoes an uncommitted upload: its record first (while the other stores are still being cleaned,
     * or down, no listing shows a file its client was told failed; the operation log, not the record,
     * names what is left to remove), then its points and its blob, then frees its idempotency key and
     * marks it ABORTED. Each removal is idempotent, so recovery can repeat a half-done undo.
     */
    Future<Void> undo(IngestOperation op) {
        if (op.step() == Step.COMMITTED || op.step().terminal()) {
            return Future.succeededFuture();
        }
        if (op.promised()) {
            // Its client was answered 202 with the file's id: rolled forward by whoever holds it now.
            return promised.rollForward(op, op.leaseOwner());
        }
        return remove(op);
    }

    /** {@link #undo} of an upload whatever its client was answered (its blob is not the one received). */
    Future<Void> remove(IngestOperation op) {
        return steps.retry
                .run(() -> steps.stores.metadata().remove(op.fileId()))
                .compose(v -> steps.retry.run(() -> steps.stores.vectors().deleteFile(op.tenantId(), op.fileId())))
                .compose(v -> steps.retry.run(() -> steps.stores.blobs().delete(op.blobKey())))
                .compose(v -> op.idempotencyKey() == null
                        ? Future.<Void>succeededFuture()
                        : steps.stores.operations().releaseKey(op.tenantId(), op.idempotencyKey(), op.id()))
                .compose(v -> steps.stores.operations().advance(op.id(), Step.ABORTED, op.lastError()))
                .onFailure(steps.breaker::record);
    }
}
