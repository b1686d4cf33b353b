package io.trisync.ingest;

import io.trisync.store.IngestOperation;
import io.vertx.core.Future;

/**
 * Called after each step of an upload or delete has been recorded. The node's own hook does nothing;
 * fault tests pass one that fails or never completes, to stop an operation between two steps as a
 * crash would.
 */
@FunctionalInterface
public interface IngestHooks {

    IngestHooks NONE = (op, step) -> Future.succeededFuture();

    Future<Void> after(IngestOperation op, IngestOperation.Step step);
}
