package io.trisync.ingest;

import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Breaker;
import io.trisync.metrics.Metrics;
import io.trisync.store.ChunkPoint;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.Retry;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the upload, delete and recovery flows share: the stores, retries, the breaker, event
 * publishing, the embedding worker pool and the test hooks; and {@link #take}, which performs one
 * step and records it in the operation log before the next step may start.
 */
final class Steps {

    final Vertx vertx;
    final Stores stores;
    final EventPublisher events;
    final Retry retry;
    final Breaker breaker;
    final IngestHooks hooks;
    final ContentIndexer indexer;
    final WorkerExecutor embeddingPool;
    final String nodeId;
    final int partitions;
    /** How long an operation may go untouched before recovery may claim it. */
    final Duration grace;

    final Metrics metrics;

    /** Fails 409 {@code tenant_erasing} while the tenant is being erased: it takes no new writes then. */
    static Future<Void> notErasing(io.trisync.store.Stores stores, String tenantId) {
        return stores.erasures()
                .get(tenantId)
                .compose(erasure -> erasure != null && erasure.erasing()
                        ? Future.failedFuture(new io.trisync.failure.Failure.Conflict(
                                "tenant_erasing: tenant " + tenantId + " is being erased"))
                        : Future.succeededFuture());
    }

    Steps(
            Vertx vertx,
            Stores stores,
            EventPublisher events,
            Retry retry,
            Breaker breaker,
            IngestHooks hooks,
            ContentIndexer indexer,
            WorkerExecutor embeddingPool,
            String nodeId,
            int partitions,
            Duration grace,
            Metrics metrics) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.stores = stores;
        this.events = events;
        this.retry = retry;
        this.breaker = breaker;
        this.hooks = hooks;
        this.indexer = indexer;
        this.embeddingPool = embeddingPool;
        this.nodeId = nodeId;
        this.partitions = partitions;
        this.grace = grace;
    }

    /** Points go to Qdrant this many to an upsert. */
    static final int UPSERT_BATCH = 256;

    /** Upserts {@code points}, {@link #UPSERT_BATCH} to a request, all at once. */
    Future<Void> upsertPoints(List<ChunkPoint> points) {
        List<Future<Void>> batches = new ArrayList<>();
        for (int i = 0; i < points.size(); i += UPSERT_BATCH) {
            batches.add(stores.vectors().upsert(points.subList(i, Math.min(points.size(), i + UPSERT_BATCH))));
        }
        return Future.all(batches).mapEmpty();
    }

    /**
     * The operation is no longer this node's (recovery claimed it, or it already ended): whoever holds
     * it now finishes it, so the node that lost it must not undo anything.
     */
    static final class LeaseLost extends ReplyException {
        LeaseLost(IngestOperation op) {
            super(
                    ReplyFailure.RECIPIENT_FAILURE,
                    503,
                    "operation " + op.id()
                            + " is no longer held by this node (it outlived its lease or already ended)");
        }
    }

    /**
     * The lease holder of an upload while it runs. It names the operation, not a node: the receiving
     * node's request to complete may reach the ingest verticle of another node than the one that
     * recorded it, and that one must hold the same lease. Recovery claims under a node id, which
     * never looks like this.
     */
    static String uploadHolder(IngestOperation op) {
        return "upload:" + op.id();
    }

    /**
     * Runs {@code work} (retried while it fails retriably), then records {@code step} as done, then
     * lets the hook see it. Completes with the operation at {@code step}. A failure is noted by the
     * breaker and recorded on the operation (best effort) before it is passed on.
     */
    Future<IngestOperation> take(IngestOperation op, Step step, Supplier<Future<?>> work) {
        return retry.run(work::get)
                .compose(done -> retry.run(() -> stores.operations().advance(op.id(), step, null)))
                .compose(done -> hooks.after(op, step))
                .map(done -> op.withStep(step))
                .onFailure(error -> noteFailure(op, error));
    }

    /** Logs and publishes a committed operation's events in one write, then records it DONE. */
    Future<Void> publishAndEnd(IngestOperation op, List<EventPublisher.Draft> drafts) {
        return events.publishAll(op.tenantId(), drafts)
                .compose(published -> take(op, Step.DONE, Future::succeededFuture))
                .mapEmpty();
    }

    /**
     * Records {@code step} on an operation this node holds the lease of, then lets the hook see it.
     * Fails (503) without writing when recovery claimed the operation after the lease ran out.
     */
    Future<IngestOperation> takeHeld(IngestOperation op, Step step) {
        return retry.run(() -> stores.operations().advanceIfHeld(op.id(), step, uploadHolder(op)))
                .compose(held -> held
                        ? hooks.after(op, step).map(op.withStep(step))
                        : Future.<IngestOperation>failedFuture(new LeaseLost(op)))
                .onFailure(breaker::record);
    }

    /**
     * Keeps the lease of an operation this node works on from running out (a heartbeat every third
     * of the grace period) until the returned handle is cancelled, so recovery on any node leaves a
     * long upload (a large PDF being embedded) alone while its node is alive.
     */
    long holdLease(IngestOperation op) {
        long period = Math.max(250, grace.toMillis() / 3);
        String incarnation = stores.incarnations().id();
        if (!incarnation.equals(op.incarnation())) {
            // Completed by another node process than the one that recorded it: that process may go
            // away now without its departure making recovery take this upload.
            renewLease(op, incarnation);
        }
        return vertx.setPeriodic(period, id -> renewLease(op, incarnation).onSuccess(held -> {
            // A failed renewal (MongoDB briefly away) is tried again next period; only a
            // lost lease ends the heartbeat.
            if (!held) {
                vertx.cancelTimer(id);
            }
        }));
    }

    private Future<Boolean> renewLease(IngestOperation op, String incarnation) {
        return stores.operations()
                .renewLease(op.id(), uploadHolder(op), Instant.now().plus(grace), incarnation);
    }

    /** A failed step: the breaker notes it, and it is recorded on the operation (best effort). */
    private void noteFailure(IngestOperation op, Throwable error) {
        breaker.record(error);
        stores.operations().advance(op.id(), op.step(), String.valueOf(error.getMessage()));
    }

    /**
     * Runs {@code work} (retried while it fails retriably) and lets the hook see {@code step}, without
     * recording it: for the steps of an upload before its commit, which recovery treats alike.
     */
    Future<IngestOperation> pass(IngestOperation op, Step step, Supplier<Future<?>> work) {
        return retry.run(work::get)
                .compose(done -> hooks.after(op, step))
                .map(done -> op.withStep(step))
                .onFailure(error -> noteFailure(op, error));
    }
}
