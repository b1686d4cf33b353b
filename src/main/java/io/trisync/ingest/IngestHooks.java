package io.trisync.ingest;

import io.trisync.store.IngestOperation;
import io.vertx.core.Future;

/**
 * Called after each step of an upload or delete has been recorded, and once an upload's 202 {@code
 * completing} has been promised ({@link #promised}). The node's own hook does nothing; fault tests pass
 * one that fails or never completes, to stop an operation between two steps as a crash would.
 */
@FunctionalInterface
public interface IngestHooks {

    IngestHooks NONE = (op, step) -> Future.succeededFuture();

    Future<Void> after(IngestOperation op, IngestOperation.Step step);

    /**
     * Called once operation {@code opId} (an upload or new version that outlived its answer's deadline)
     * is recorded as answered 202 {@code completing} ({@link PromisedUploads#promise}), before that
     * answer is sent to the receiving node. Goes on at once unless a test's hook holds it: one that
     * never completes lets a test kill the node between the promise and its answer.
     */
    default Future<Void> promised(String opId) {
        return Future.succeededFuture();
    }
}
