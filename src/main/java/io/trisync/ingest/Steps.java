package io.trisync.ingest;

import io.trisync.bus.Retry;
import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
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
            int partitions) {
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
                .onFailure(error -> {
                    breaker.record(error);
                    stores.operations().advance(op.id(), op.step(), String.valueOf(error.getMessage()));
                });
    }

    /** Logs and publishes a committed operation's events in one write, then records it DONE. */
    Future<Void> publishAndEnd(IngestOperation op, List<EventPublisher.Draft> drafts) {
        return events.publishAll(op.tenantId(), drafts)
                .compose(published -> take(op, Step.DONE, Future::succeededFuture))
                .mapEmpty();
    }

    /** Records a step that needed no store write (the blob was written by the receiving node). */
    Future<IngestOperation> mark(IngestOperation op, Step step) {
        return take(op, step, Future::succeededFuture);
    }
}
