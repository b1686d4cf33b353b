package io.trisync.ingest;

import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finishes or undoes operations a node left unfinished. Each sweep claims, one at a time, every
 * operation untouched for the grace period whose lease has run out (an atomic find-and-modify in
 * MongoDB, so two nodes never work the same one), then: an upload that committed gets its events and
 * ends; an upload that did not is undone (it was never acknowledged), unless its client was answered
 * 202 {@code completing}, which rolls it forward with its embedding pending ({@link PromisedUploads});
 * a delete is rolled forward; a
 * new version is rolled forward once it committed or was answered 202 (its vectors pending then), and
 * undone before (the file stays the old version).
 */
final class Recovery {

    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);
    private static final int MAX_PER_SWEEP = 10_000;

    private final Steps steps;
    private final UploadFlow uploads;
    private final DeleteFlow deletes;
    private final ReplaceFlow replaces;
    private final PromisedUploads promised;
    private final Duration grace;
    private final Duration lease;

    Recovery(
            Steps steps,
            UploadFlow uploads,
            DeleteFlow deletes,
            ReplaceFlow replaces,
            PromisedUploads promised,
            Duration grace,
            Duration lease) {
        this.replaces = replaces;
        this.promised = promised;
        this.steps = steps;
        this.uploads = uploads;
        this.deletes = deletes;
        this.grace = grace;
        this.lease = lease;
    }

    /**
     * One sweep; completes with how many operations it ended, or fails when the operation log cannot
     * be read (nothing was claimed then, or the sweep stopped part way).
     */
    Future<Integer> sweep() {
        return steps.stores
                .operations()
                .openIncarnations()
                .compose(holders -> steps.stores.incarnations().goneAmong(holders))
                .compose(gone -> {
                    gone.forEach((id, why) ->
                            LOG.info("Recovering the unfinished operations of incarnation {}: {}", id, why));
                    Promise<Integer> done = Promise.promise();
                    next(0, 0, gone.keySet(), done);
                    return done.future();
                });
    }

    private void next(int claimed, int ended, Set<String> gone, Promise<Integer> done) {
        if (claimed >= MAX_PER_SWEEP) {
            done.complete(ended);
            return;
        }
        steps.stores
                .operations()
                .claimStale(
                        steps.nodeId,
                        steps.stores.incarnations().id(),
                        Instant.now().minus(grace),
                        lease,
                        gone)
                .onComplete(claim -> {
                    if (claim.failed()) {
                        LOG.warn(
                                "Recovery sweep stopped after ending {} operations: {}",
                                ended,
                                claim.cause().getMessage());
                        done.fail(claim.cause());
                        return;
                    }
                    IngestOperation op = claim.result();
                    if (op == null) {
                        if (ended > 0) {
                            LOG.info("Recovered {} unfinished ingest operations", ended);
                        }
                        done.complete(ended);
                        return;
                    }
                    recover(op).onComplete(r -> {
                        if (r.failed()) {
                            LOG.warn(
                                    "Operation {} ({} of file {}) stays unfinished at {}: {}",
                                    op.id(),
                                    op.kind(),
                                    op.fileId(),
                                    op.step(),
                                    r.cause().getMessage());
                        }
                        next(claimed + 1, ended + (r.succeeded() ? 1 : 0), gone, done);
                    });
                });
    }

    private Future<Void> recover(IngestOperation op) {
        LOG.info(
                "Recovering {} {} of file {} for tenant {} from step {}",
                op.kind(),
                op.id(),
                op.fileId(),
                op.tenantId(),
                op.step());
        if (op.kind() == Kind.REPLACE) {
            if (op.step() == Step.COMMITTED || op.promised()) {
                return (op.step() == Step.COMMITTED
                                ? replaces.recover(op).<Void>mapEmpty()
                                : replaces.rollForwardPromised(op, steps.nodeId))
                        .onSuccess(v -> steps.metrics.recovered("rolled_forward"));
            }
            return replaces.undo(op).onSuccess(v -> steps.metrics.recovered("undone"));
        }
        if (op.kind() == Kind.UPLOAD) {
            if (op.step() == Step.COMMITTED) {
                return uploads.finish(op).onSuccess(v -> steps.metrics.recovered("published"));
            }
            return op.promised()
                    ? promised.rollForward(op, steps.nodeId).onSuccess(v -> steps.metrics.recovered("rolled_forward"))
                    : uploads.undo(op).onSuccess(v -> steps.metrics.recovered("undone"));
        }
        return steps.stores
                .metadata()
                .get(op.fileId())
                .compose(file -> deletes.recover(op, file))
                .<Void>map(rolled -> {
                    steps.metrics.recovered(rolled ? "rolled_forward" : "aborted");
                    return null;
                })
                .recover(error -> error instanceof Failure.NotFound
                        ? steps.stores.operations().advance(op.id(), Step.DONE, "record gone")
                        : Future.failedFuture(error));
    }
}
