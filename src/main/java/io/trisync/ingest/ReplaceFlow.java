package io.trisync.ingest;

import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.BeginReplace;
import io.trisync.ingest.IngestMessages.UploadTicket;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new version of a file's content as a coordinated write. {@link #begin} records the operation
 * (and checks the file again once it holds it); the receiving node writes the new bytes to a staging
 * key outside the tenant's prefix; {@link #complete} checks them, makes their vectors (nothing is
 * written yet; a large file's are made after the commit, as they are written) and commits. Until
 * the commit nothing of the file has changed and an interrupted replacement is undone ({@link
 * #undo}: the staged bytes removed), unless its client was answered 202 {@code completing}: that one
 * is committed from its staged bytes with its vectors pending ({@link #rollForwardPromised}). From
 * the commit on it is rolled forward ({@link #rollForward}), now or by recovery, every step
 * idempotent and guarded by what the stores hold: the current bytes copied to the file's retention
 * path and the new ones over its key, the points replaced, then the record moved to the new sha256,
 * size, version and history (naming this operation) in one conditional write; then the staged copy
 * is removed and {@code file.updated} with the embedding event published. So after any crash the
 * file is wholly the old version or wholly the new one.
 */
final class ReplaceFlow {

    private static final Logger LOG = LoggerFactory.getLogger(ReplaceFlow.class);

    private final Steps steps;
    private final VersionMove versions;

    ReplaceFlow(Steps steps) {
        this.steps = steps;
        this.versions = new VersionMove(steps);
    }

    /**
     * Records the replacement of a file of the tenant at {@code expectedVersion} (when given), or
     * answers with the file as it is when it already holds these bytes (nothing to do). Without a
     * tenant (an admin who named none, as for reading, editing or deleting a file) the file's own.
     */
    Future<UploadTicket> begin(BeginReplace request) {
        // With a tenant named, its erasure and the stores' breaker are checked before any read (a store
        // counted down answers at once); without, the breaker first and the file's tenant once read.
        boolean named = request.tenantId() != null;
        return (named ? Steps.notErasing(steps.stores, request.tenantId()) : Future.<Void>succeededFuture())
                .compose(v -> steps.admit())
                .compose(v -> Steps.visible(steps.stores, request.fileId(), request.tenantId()))
                .recover(error -> error instanceof Failure.NotFound
                        ? Steps.whyNoFile(
                                steps.stores,
                                request.fileId(),
                                request.tenantId(),
                                Steps.stillCompleting(error) ? error : notFoundFailure(request))
                        : Future.failedFuture(error))
                .compose(file -> {
                    if (named && !file.tenantId().equals(request.tenantId())
                            || file.status() != FileRecord.Status.ACTIVE
                                    && file.status() != FileRecord.Status.DELETED) {
                        return notFound(request);
                    }
                    if (file.status() == FileRecord.Status.DELETED) {
                        return Future.failedFuture(Steps.deleted(file.id()));
                    }
                    return named
                            ? Future.succeededFuture(file)
                            : Steps.notErasing(steps.stores, file.tenantId()).map(file);
                })
                .compose(file -> {
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
                .recover(error -> error instanceof Failure.Conflict ? heldBy(file.id()) : Future.failedFuture(error))
                .compose(v -> recheck(request, op, file))
                .compose(v -> steps.hooks.after(op, Step.BEGUN))
                .map(v -> new UploadTicket(op.id(), file.id(), op.writeKey(), null, op.toDocument()));
    }

    /**
     * The refusal of a new version of a file another operation holds: "try again", unless that one
     * cannot be read (edited by hand), which no retry outlasts: then a conflict naming it and its field.
     */
    private <T> Future<T> heldBy(String fileId) {
        Failure busy = new Failure.Conflict(
                "file " + fileId + " is being uploaded, updated or deleted by another request; try again");
        return steps.stores
                .operations()
                .openFor(fileId)
                .transform(open -> Future.failedFuture(
                        open.succeeded()
                                        && open.result() != null
                                        && open.result().unreadable() != null
                                ? open.result().unreadableConflict()
                                : busy));
    }

    /**
     * The checks of {@link #begin} made again once the operation holds the file (no other upload,
     * update or delete of it can start now): a write that landed between the first read and the
     * insert makes this one end before it wrote anything, as 412, 404 or 409.
     */
    private Future<Void> recheck(BeginReplace request, IngestOperation op, FileRecord seen) {
        return steps.stores.metadata().get(op.fileId()).compose(now -> {
            Failure stop = null;
            if (now.status() == FileRecord.Status.DELETED) {
                stop = Steps.deleted(now.id());
            } else if (now.status() != FileRecord.Status.ACTIVE) {
                stop = notFoundFailure(request);
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

    /** Checks the staged bytes, makes their vectors, commits, rolls forward. */
    Future<FileRecord> complete(IngestOperation op, IngestMessages.Staged spooled) {
        if (op.step() == Step.DONE) {
            return steps.stores.metadata().get(op.fileId());
        }
        if (op.step() != Step.BEGUN) {
            return Future.failedFuture(new Failure.Conflict("operation " + op.id() + " is at step " + op.step()));
        }
        long lease = steps.holdLease(op);
        boolean[] committing = {false};
        return Steps.whole(op.size(), () -> steps.retry
                        .run(() -> steps.written(op, op.writeKey(), spooled))
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
                                                .compose(file -> versions.forward(at, file, made))))))
                .onComplete(done -> steps.vertx.cancelTimer(lease))
                .recover(error -> afterFailure(op, error, committing[0]));
    }

    /**
     * A replacement that failed: undone when it had not committed (the file stays the old version),
     * and answered once the undo ended, so that a retry sent on the answer is not refused 409 by the
     * operation being undone; unless its client was answered 202 {@code completing}, which rolls it
     * forward ({@link #undo});
     * else finished later, as the stores allow, and the client is told the version is committed.
     * Whether it committed is read from the log; when that read fails, or the commit was sent and its
     * answer lost, the decision is left to a later try ({@link #settle}), never guessed.
     */
    private Future<FileRecord> afterFailure(IngestOperation op, Throwable error, boolean committing) {
        if (error instanceof Steps.LeaseLost) {
            removeOwnStaged(op);
            return Future.failedFuture(error);
        }
        Throwable[] answer = {error};
        return steps.settleFailure(
                        op.id(), () -> steps.stores.operations().get(op.id()).transform(read -> {
                            if (read.failed()) {
                                steps.later(op.id(), "Replacement", this::settle);
                                return Future.succeededFuture();
                            }
                            IngestOperation now = read.result();
                            if (now.step() == Step.COMMITTED) {
                                steps.later(op.id(), "Replacement", this::rollForward);
                                answer[0] = new Failure.Unavailable("the new version of file " + op.fileId()
                                        + " is committed and completes as the stores return (" + error.getMessage()
                                        + ")");
                                return Future.succeededFuture();
                            }
                            if (now.step().terminal()) {
                                removeStaged(op);
                                return Future.succeededFuture();
                            }
                            if (committing) {
                                steps.later(op.id(), "Replacement", this::settle);
                                return Future.succeededFuture();
                            }
                            // Answered once undone: a retry sent on the answer finds the file free, not 409.
                            return undo(now).onFailure(e -> steps.later(op.id(), "Undo of replacement", this::settle));
                        }))
                .transform(settled -> Future.<FileRecord>failedFuture(answer[0]));
    }

    /** An unfinished replacement as the log says it is now: rolled forward once committed, else undone. */
    private Future<?> settle(IngestOperation op) {
        return op.step() == Step.COMMITTED ? rollForward(op) : undo(op);
    }

    /**
     * After recovery took the operation before the commit: it undoes an unpromised one, and staged
     * bytes this node wrote after that undo ran are removed here (the staging key is this operation's
     * own). A new version answered 202 {@code completing} keeps them: the claimant rolls it forward
     * from them (and removes them once the version has moved), as an upload keeps its writes.
     */
    private void removeOwnStaged(IngestOperation op) {
        steps.stores.operations().get(op.id()).onComplete(now -> {
            if (now.succeeded() && (!now.result().promised() || now.result().step() == Step.ABORTED)) {
                removeStaged(op);
                return;
            }
            LOG.warn(
                    "New version {} of file {} was taken over by recovery before it committed; its staged bytes are"
                            + " left to the claimant ({})",
                    op.id(),
                    op.fileId(),
                    now.succeeded()
                            ? "it was answered 202 completing and is rolled forward"
                            : "the operation could not be read: " + now.cause().getMessage());
        });
    }

    private void removeStaged(IngestOperation op) {
        steps.deleteBlobs(List.of(op.writeKey()))
                .onFailure(e -> LOG.warn(
                        "Staged bytes of replacement {} (file {}) not removed: {}",
                        op.id(),
                        op.fileId(),
                        e.getMessage()));
    }

    /**
     * Extracts, chunks and embeds the new content (no store is written); a large file's points are
     * made later, as they are written after the commit ({@link VersionMove.Made#later}).
     */
    private Future<VersionMove.Made> make(IngestOperation op, Buffer bytes) {
        if (Steps.alone(bytes)) {
            return Future.succeededFuture(VersionMove.Made.later(bytes));
        }
        return steps.index(op, bytes)
                .map(VersionMove.Made::of)
                .recover(error -> UploadFlow.embedderDown(error)
                        ? Future.succeededFuture(VersionMove.Made.queued())
                        : Future.failedFuture(error));
    }

    /**
     * Takes a committed replacement to DONE from whatever the stores hold (recovery, or a retry). Once
     * the version has moved, its events may be logged already (its node fell, or its end failed, after
     * logging them): then it only ends.
     */
    Future<FileRecord> rollForward(IngestOperation op) {
        // Not within the memory budget: recovery's claim is not renewed while it would wait its
        // turn, and another sweep would then claim the same version again.
        return rollForward(op, file -> steps.retry
                .run(() -> steps.stores.blobs().read(op.writeKey()))
                .compose(staged -> UploadFlow.verify(op, staged.info())
                        .compose(v -> make(op, staged.bytes()))
                        .compose(made -> versions.forward(op, file, made))));
    }

    /**
     * Recovery's roll forward of a committed replacement: as {@link #rollForward}, but a version that
     * has not moved yet moves with its vectors queued (the index queue makes them, as for a promised
     * one) instead of being embedded here. A sweep ends the operations it claims one after another,
     * so embedding a large file inline (a minute and more for a few MiB of text) held up everything
     * else the dead process left: its begun uploads stayed unfinished until the next sweep, their
     * Idempotency-Keys answered 409 and their files "still completing" meanwhile.
     */
    Future<FileRecord> recover(IngestOperation op) {
        return rollForward(op, file -> steps.retry
                .run(() -> steps.stores.blobs().head(op.writeKey()))
                .compose(staged -> UploadFlow.verify(op, staged))
                .compose(v -> versions.forward(op, file, VersionMove.Made.queued())));
    }

    /** Ends {@code op} when its version has moved, else moves it with {@code move} (given the record). */
    private Future<FileRecord> rollForward(IngestOperation op, Function<FileRecord, Future<FileRecord>> move) {
        return steps.stores
                .metadata()
                .get(op.fileId())
                .compose(file -> VersionMove.moved(op, file)
                        ? steps.endUnlessLogged(op, () -> versions.finish(op, file))
                                .map(file)
                        : move.apply(file));
    }

    /**
     * Rolls forward a replacement answered 202 {@code completing} that did not commit, taken by {@code
     * holder} (recovery's claim, or the flow's own lease when its node's completion failed after the
     * 202): when its staged bytes are in S3 as received ({@link PromisedUploads#received}), commits it
     * under that lease and moves the version with its vectors pending (the index queue makes them);
     * staged bytes that are missing or not the ones received undo it, as before ({@link #remove}).
     */
    Future<Void> rollForwardPromised(IngestOperation op, String holder) {
        return PromisedUploads.received(steps, op).compose(staged -> {
            if (staged == null) {
                return remove(op);
            }
            return steps.retry
                    .run(() -> steps.stores.operations().advanceIfHeld(op.id(), Step.COMMITTED, holder))
                    .compose(held -> held
                            ? steps.stores.metadata().get(op.fileId())
                            : Future.failedFuture(new Steps.LeaseLost(op)))
                    .compose(file -> versions.forward(op.withStep(Step.COMMITTED), file, VersionMove.Made.queued()))
                    .onSuccess(file -> LOG.warn(
                            "New version {} of file {} for tenant {} was answered 202 completing and did not commit;"
                                    + " rolled forward by {} with its vectors pending",
                            op.id(),
                            op.fileId(),
                            op.tenantId(),
                            holder))
                    .<Void>mapEmpty();
        });
    }

    /** Undoes a new version whose receiving node could not write its blob, now or as the stores return. */
    Future<Void> abort(IngestOperation op) {
        return steps.undoNowOrLater(op, "Undo of new version", this::undo);
    }

    /**
     * Undoes a replacement that did not commit: the file is still wholly its old version (nothing of
     * it is written before the commit). One whose client was answered 202 {@code completing} is rolled
     * forward instead, under the lease of whoever holds it now (the flow, its retry in {@link
     * Steps#later}, or recovery), as an upload's is ({@link UploadFlow#undo}): every path that undoes
     * a new version (its own failure, a retry's {@link #settle}, the receiving node's {@link #abort},
     * recovery) comes through here.
     */
    Future<Void> undo(IngestOperation op) {
        if (op.step() == Step.COMMITTED || op.step().terminal()) {
            return Future.succeededFuture();
        }
        if (op.promised()) {
            return rollForwardPromised(op, op.leaseOwner());
        }
        return remove(op);
    }

    /**
     * {@link #undo} whatever the client was answered: the staged bytes are removed, then, if the log
     * still says it did not commit, it is ABORTED. The removal is idempotent.
     */
    private Future<Void> remove(IngestOperation op) {
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
        return Future.failedFuture(notFoundFailure(request));
    }

    private static Failure notFoundFailure(BeginReplace request) {
        return new Failure.NotFound("no file " + request.fileId()
                + (request.tenantId() == null ? "" : " for user_id " + request.tenantId()));
    }
}
