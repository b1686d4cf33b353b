package io.trisync.ingest;

import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads whose client was answered 202 {@code completing} with the file's id: such an upload is
 * promised, so it is never undone silently. {@link #promise} records the promise on the operation
 * before the 202 is sent (one write; a 202 that could not be recorded is a 503 instead), and
 * recovery, or the node itself when its completion fails, rolls a promised upload that did not
 * commit forward ({@link #rollForward}): its blob is in S3, since the 202 is sent during the
 * completion, which starts after the put. New versions are promised the same way and rolled forward
 * by {@link ReplaceFlow#rollForwardPromised}, from bytes checked by the same {@link #received}.
 */
final class PromisedUploads {

    private static final Logger LOG = LoggerFactory.getLogger(PromisedUploads.class);

    private final Steps steps;
    private final UploadFlow uploads;

    PromisedUploads(Steps steps, UploadFlow uploads) {
        this.steps = steps;
        this.uploads = uploads;
    }

    /**
     * Records that operation {@code opId} (an upload or a new version, still held by its flow) is
     * answered 202 {@code completing}. Completes when it is recorded, or when the operation committed
     * already (its file is stored); fails 503 when the write failed or the flow no longer holds it
     * (recovery took it: it undoes an unpromised upload).
     */
    Future<Void> promise(String opId) {
        return steps.promising(opId, () -> steps.stores
                        .operations()
                        .promise(opId, Steps.uploadHolder(opId))
                        .compose(held -> held ? Future.<Void>succeededFuture() : committedOrFail(opId)))
                .recover(error -> {
                    LOG.warn(
                            "Operation {} outlived its answer's deadline but its 202 could not be recorded ({});"
                                    + " answered 503, it ends unpromised (committed if its completion succeeds, else"
                                    + " undone)",
                            opId,
                            error.getMessage());
                    return Future.failedFuture(new Failure.Unavailable("the upload (operation " + opId
                            + ") is still completing and could not be recorded as accepted (" + error.getMessage()
                            + "); send it again"));
                });
    }

    /** Completes once no promise of operation {@code opId} is being recorded, however it ends. */
    Future<Void> settled(String opId) {
        return steps.promiseSettled(opId);
    }

    private Future<Void> committedOrFail(String opId) {
        return steps.stores
                .operations()
                .get(opId)
                .compose(op -> op.step() == Step.COMMITTED || op.step() == Step.DONE
                        ? Future.succeededFuture()
                        : Future.failedFuture(
                                new IllegalStateException("its flow no longer holds it (step " + op.step() + ")")));
    }

    /**
     * Rolls forward promised upload {@code op} that did not commit, taken by {@code holder} (recovery's
     * claim, or the flow's own lease when its node's completion failed after the 202): when its
     * blob is in S3 with the expected size and sha256, removes any points a cut-off embedding left,
     * then commits the file with its embedding pending as an upload does while the embedding service
     * is down (record, index job, commit under {@code holder}'s lease, events, DONE); the index queue makes
     * its vectors. A blob that is missing or not the one received is undone as before.
     */
    Future<Void> rollForward(IngestOperation op, String holder) {
        return received(steps, op)
                .compose(blob -> blob == null
                        ? uploads.remove(op)
                        : steps.retry
                                .run(() -> steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()))
                                .compose(v -> uploads.writePending(
                                        op,
                                        holder,
                                        blob.etag(),
                                        "it was answered 202 completing and did not commit; rolled forward by "
                                                + holder))
                                .<Void>mapEmpty());
    }

    /**
     * The bytes promised operation {@code op} wrote ({@link IngestOperation#writeKey}: an upload's
     * blob, a new version's staged copy) when S3 holds them with the expected size and sha256; null,
     * logged, when they are missing or others. Only then is a promise broken: there is nothing to
     * roll forward from, so the operation is undone as if it had not been promised. Shared by
     * uploads ({@link #rollForward}) and new versions ({@link ReplaceFlow#rollForwardPromised}).
     */
    static Future<BlobInfo> received(Steps steps, IngestOperation op) {
        return steps.retry.run(() -> steps.stores.blobs().head(op.writeKey())).transform(head -> {
            if (head.failed() && !(head.cause() instanceof Failure.NotFound)) {
                return Future.failedFuture(head.cause());
            }
            BlobInfo blob = head.succeeded() ? head.result() : null;
            if (blob != null && UploadFlow.verify(op, blob).succeeded()) {
                return Future.succeededFuture(blob);
            }
            LOG.warn(
                    "{} {} of file {} for tenant {} was answered 202 completing but its bytes {} are {}; undoing it",
                    op.kind(),
                    op.id(),
                    op.fileId(),
                    op.tenantId(),
                    op.writeKey(),
                    blob == null ? "missing" : "not the ones received (sha256 " + blob.sha256() + ")");
            return Future.succeededFuture(null);
        });
    }
}
