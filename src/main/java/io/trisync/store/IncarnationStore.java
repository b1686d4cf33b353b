package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * The node incarnations (MongoDB {@code node_incarnations}). Futures fail with {@link
 * Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface IncarnationStore {

    /** Records a new incarnation. */
    Future<Void> register(Incarnation incarnation);

    /** Sets the incarnation's heartbeat to {@code at}. */
    Future<Void> heartbeat(String id, Instant at);

    /** Records that the incarnation stopped cleanly at {@code at}. */
    Future<Void> end(String id, Instant at);

    /** The recorded incarnations among {@code ids} (an id without a record is left out). */
    Future<List<Incarnation>> find(Collection<String> ids);

    /** Removes incarnations whose last heartbeat is older than {@code before}; completes with how many. */
    Future<Long> prune(Instant before);
}
