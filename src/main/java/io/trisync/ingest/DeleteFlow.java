package io.trisync.ingest;

import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.DeleteFile;
import io.trisync.ingest.IngestMessages.DeleteOutcome;
import io.trisync.ingest.IngestMessages.FileRef;
import io.trisync.store.Actor;
import io.trisync.store.Dates;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * A delete as a coordinated write: metadata marked deleted first (so no reader serves the file),
 * then the blob removed (with the retained previous versions), then every point of the file removed by filter, then commit and events.
 * Every step is idempotent; an interrupted delete is rolled forward by {@link #recover}, or ends ABORTED
 * when it was sent for a version the file is no longer at.
 */
final class DeleteFlow {

    private final Steps steps;

    DeleteFlow(Steps steps) {
        this.steps = steps;
    }

    /**
     * Deletes the file {@code request} names. With an expected version ({@code If-Match}), a file
     * still active at another version is refused 412 and left as it is; a file deleted already, or
     * whose delete runs, is answered as without it (a repeated DELETE gets the same answer).
     */
    Future<DeleteOutcome> delete(DeleteFile request) {
        FileRef ref = request.file();
        Long expected = request.expectedVersion();
        return Steps.visible(steps.stores, ref.fileId(), ref.tenantId())
                .recover(error -> error instanceof Failure.NotFound
                        ? Steps.whyNoFile(steps.stores, ref.fileId(), ref.tenantId(), notFoundFailure(ref, error))
                        : Future.failedFuture(error))
                .compose(file -> {
                    if (ref.tenantId() != null && !file.tenantId().equals(ref.tenantId())) {
                        return notFound(ref);
                    }
                    if (expected != null && file.status() == FileRecord.Status.ACTIVE && file.version() != expected) {
                        return Future.failedFuture(new Failure.StaleVersion(expected, file.version()));
                    }
                    return start(file, ref.actor(), true, expected);
                });
    }

    /**
     * Finishes the file's unfinished delete if there is one, else records a new one (conditioned on
     * {@code ifMatch} when not null: the version is kept with the operation, so a retry or recovery
     * that takes the delete up again honours it too). Two deletes of one file racing: the second's
     * record conflicts with the first's, and it joins the first when both name the same version (or
     * none); one sent on another condition than the running delete's is refused 409 (joined, its
     * outcome would be decided by a version it did not name).
     */
    private Future<DeleteOutcome> start(FileRecord file, Actor actor, boolean mayJoin, Long ifMatch) {
        return steps.stores.operations().openFor(file.id()).compose(open -> {
            if (open != null && open.unreadable() != null) {
                // It holds the file, and what it does cannot be told: a person corrects it first.
                return Future.failedFuture(open.unreadableConflict());
            }
            if (open != null && open.kind() != Kind.DELETE) {
                return Future.failedFuture(
                        new Failure.Conflict("file " + file.id() + " is still being uploaded or updated"));
            }
            if (open != null && !Objects.equals(open.expectedVersion(), ifMatch)) {
                return Future.failedFuture(new Failure.Conflict("file " + file.id() + " is being deleted"
                        + (open.expectedVersion() == null
                                ? ""
                                : " on the condition that it is at version " + open.expectedVersion())
                        + " by operation " + open.id() + "; try again once it ended"));
            }
            if (open != null) {
                return finishOrDefer(open, file, false);
            }
            if (file.status() == FileRecord.Status.DELETED) {
                return Future.succeededFuture(new DeleteOutcome(file, null, true));
            }
            IngestOperation op = IngestOperation.begin(
                            FileIds.next(),
                            Kind.DELETE,
                            file.tenantId(),
                            file.id(),
                            file.partition(),
                            file.name(),
                            file.contentType(),
                            file.size(),
                            file.sha256(),
                            null,
                            steps.nodeId,
                            steps.stores.incarnations().id(),
                            actor)
                    .expecting(ifMatch);
            return steps.stores
                    .operations()
                    .begin(op)
                    .compose(
                            v -> steps.hooks.after(op, Step.BEGUN).compose(ignored -> finishOrDefer(op, file, true)),
                            error -> error instanceof Failure.Conflict && mayJoin
                                    ? steps.stores
                                            .metadata()
                                            .get(file.id())
                                            .compose(now -> start(now, actor, false, ifMatch))
                                    : Future.failedFuture(error));
        });
    }

    /**
     * Rolls delete {@code op} forward now, or later when a store is away (answered 202). Only the
     * delete's own request ({@code publishing}) logs its events: one that joined it (another DELETE of
     * the file while it runs) completes its steps but leaves the events to it, or to recovery if its
     * node fell, since two that both found them missing would log them twice.
     */
    private Future<DeleteOutcome> finishOrDefer(IngestOperation op, FileRecord file, boolean publishing) {
        return settle(op, file, publishing)
                .map(deleted -> new DeleteOutcome(deleted, op.id(), true))
                .recover(error -> {
                    if (error instanceof Failure s && s.retriable()) {
                        steps.later(op.id(), "Delete", later -> settle(later, file, publishing));
                        return Future.succeededFuture(new DeleteOutcome(file, op.id(), false));
                    }
                    return Future.failedFuture(error);
                });
    }

    /**
     * {@link #rollForward}, except that a delete sent for a version the file is no longer at
     * ({@link IngestOperation#expectedVersion}: another write came first) ends ABORTED, having removed
     * nothing, and fails 412. The request that sent it, a retry and recovery all end it this way.
     */
    private Future<FileRecord> settle(IngestOperation op, FileRecord file, boolean publishing) {
        // 412 only once the delete is recorded ABORTED: if that write fails, its failure (a store
        // away) is the outcome, and the delete stays open for a retry or recovery to end.
        return rollForward(op, file, publishing)
                .recover(error -> error instanceof Failure.StaleVersion
                        ? steps.stores
                                .operations()
                                .advance(op.id(), Step.ABORTED, error.getMessage())
                                .compose(ended -> Future.failedFuture(error))
                        : Future.failedFuture(error));
    }

    /**
     * Recovery's part: rolls a delete its node left forward ({@link #settle}); completes with whether
     * it was (false: its condition no longer held and it ended ABORTED, having removed nothing).
     */
    Future<Boolean> recover(IngestOperation op, FileRecord file) {
        return settle(op, file, true)
                .map(true)
                .recover(error -> error instanceof Failure.StaleVersion
                        ? Future.succeededFuture(false)
                        : Future.failedFuture(error));
    }

    /**
     * Takes a delete from its recorded step to DONE. Completes with the record as marked deleted. One
     * that had committed already (a retry, recovery) logs its events only if they are not logged yet:
     * its node may have fallen, or its end failed, after logging them. Only the {@code publishing}
     * one logs the events.
     */
    private Future<FileRecord> rollForward(IngestOperation op, FileRecord file, boolean publishing) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Taken up again (a joining delete, a retry, recovery), it may find the file marked already.
        FileRecord deleted = file.status() == FileRecord.Status.DELETED
                ? file
                : new FileRecord(
                        file.id(),
                        file.tenantId(),
                        file.name(),
                        file.contentType(),
                        file.size(),
                        file.sha256(),
                        FileRecord.Status.DELETED,
                        file.version() + 1,
                        file.partition(),
                        file.embedding(),
                        file.createdAt(),
                        now,
                        file.sync(),
                        file.blobEtag(),
                        file.labels(),
                        file.history());
        if (op.step() == Step.COMMITTED) {
            return publishing
                    ? steps.endUnlessLogged(op, () -> publish(op)).compose(v -> asStored(deleted))
                    : Future.succeededFuture(deleted);
        }
        Future<IngestOperation> at = Future.succeededFuture(op);
        if (op.step() == Step.BEGUN) {
            at = at.compose(o ->
                    steps.take(o, Step.METADATA_DELETED, () -> mark(file, deleted, op.expectedVersion(), MARK_TRIES)));
        }
        if (op.step().ordinal() < Step.BLOB_DELETED.ordinal()) {
            at = at.compose(o -> steps.take(o, Step.BLOB_DELETED, () -> steps.stores
                    .blobs()
                    .delete(op.blobKey())
                    .compose(v -> steps.removeBlobs(StoreKeys.fileVersionsPrefix(op.tenantId(), op.fileId())))));
        }
        if (op.step().ordinal() < Step.VECTORS_DELETED.ordinal()) {
            at = at.compose(o -> steps.take(
                    o, Step.VECTORS_DELETED, () -> steps.stores.vectors().deleteFile(op.tenantId(), op.fileId())));
        }
        if (op.step().ordinal() < Step.COMMITTED.ordinal()) {
            at = at.compose(o -> steps.take(o, Step.COMMITTED, Future::succeededFuture));
        }
        return (publishing ? at.compose(this::publish) : at.<Void>mapEmpty()).compose(v -> asStored(deleted));
    }

    /**
     * The record as the delete left it, for the reply: read back, since a rename or an edit that came
     * between the first read and the mark (tried again over it) is what was marked, not {@code
     * deleted} as first built. {@code deleted} when the record is gone (a tombstone not written yet).
     */
    private Future<FileRecord> asStored(FileRecord deleted) {
        return steps.stores
                .metadata()
                .get(deleted.id())
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(deleted) : Future.failedFuture(e));
    }

    /** How often marking a record is tried while renames keep coming first. */
    private static final int MARK_TRIES = 8;

    /**
     * Marks the record deleted only while it is still at the version the delete was sent for
     * ({@code ifMatch}: refused 412 otherwise, so a rename that came first is neither overwritten nor
     * deleted unseen) or, without a condition, at the version read ({@code file}), tried again as it is
     * now when a write came between. A record marked already (a retry, another delete) is left as it
     * is; one gone altogether gets the tombstone {@code deleted}.
     */
    private Future<Void> mark(FileRecord file, FileRecord deleted, Long ifMatch, int tries) {
        if (file.status() == FileRecord.Status.DELETED) {
            return steps.stores.metadata().upsert(deleted);
        }
        JsonObject as = new JsonObject()
                .put(FileRecord.VERSION, ifMatch != null ? ifMatch : file.version())
                .put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire());
        return steps.stores
                .metadata()
                .patch(
                        file.id(),
                        as,
                        new JsonObject()
                                .put(FileRecord.STATUS, FileRecord.Status.DELETED.wire())
                                // The time the reply shows (deleted's), not the store's own a moment later.
                                .put(FileRecord.UPDATED_AT, Dates.toBson(deleted.updatedAt())))
                .compose(won -> won
                        ? Future.<Void>succeededFuture()
                        : steps.stores
                                .metadata()
                                .get(file.id())
                                .compose(
                                        now -> {
                                            if (now.status() == FileRecord.Status.DELETED) {
                                                return Future.<Void>succeededFuture();
                                            }
                                            if (ifMatch != null) {
                                                return Future.failedFuture(
                                                        new Failure.StaleVersion(ifMatch, now.version()));
                                            }
                                            return tries > 1
                                                    ? mark(now, deleted, null, tries - 1)
                                                    : Future.failedFuture(new Failure.Conflict("file " + file.id()
                                                            + " kept changing while it was deleted"));
                                        },
                                        error -> error instanceof Failure.NotFound
                                                ? steps.stores.metadata().upsert(deleted)
                                                : Future.failedFuture(error)));
    }

    /** Publishes {@code file.deleted} and {@code embedding.deleted}, then ends the operation. */
    Future<Void> publish(IngestOperation op) {
        JsonObject data = new JsonObject().put("name", op.name());
        return steps.publishAndEnd(
                op,
                List.of(
                        new Draft(EventTypes.FILE_DELETED, op.fileId(), op.id(), data),
                        new Draft(EventTypes.EMBEDDING_DELETED, op.fileId(), op.id(), new JsonObject())));
    }

    private static <T> Future<T> notFound(FileRef ref) {
        return Future.failedFuture(new Failure.NotFound("no file " + ref.fileId() + " for user_id " + ref.tenantId()));
    }

    /** The not-found for {@code ref}: {@code error} when it says the upload is still completing. */
    private static Throwable notFoundFailure(FileRef ref, Throwable error) {
        return Steps.stillCompleting(error)
                ? error
                : new Failure.NotFound("no file " + ref.fileId() + " for user_id " + ref.tenantId());
    }
}
