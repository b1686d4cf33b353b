package io.trisync.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tracked operations this node process runs now, whichever verticle started them, so that a
 * graceful stop can end them at once ({@link #interruptAll}) instead of leaving them {@code running}
 * in MongoDB, holding their tenant's slot, until a restart or another node's monitor notices that the
 * process is gone. Once stopping, it takes no new operation: a start that comes later is refused (503,
 * the client tries another node) and one whose record was written meanwhile is interrupted as soon as
 * it registers. One per Vert.x instance, that is per node.
 */
public final class LocalOperations implements Shareable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalOperations.class);

    /**
     * How long each write of a stopping node may take: ending an operation, publishing its end,
     * recording the incarnation's end. A store that does not answer must not hold the stop (Main
     * gives the whole stop 30 s).
     */
    public static final Duration STOP_WRITE_BOUND = Duration.ofSeconds(5);

    /** Guarded by {@code this}. */
    private final Set<TrackedOperation> running = new LinkedHashSet<>();
    /** Set once the node stops; guarded by {@code this}. */
    private Interruption stopping;

    LocalOperations() {}

    /** The node's registry: one per Vert.x instance, made on first use. */
    public static LocalOperations of(Vertx vertx) {
        return vertx.sharedData()
                .<String, LocalOperations>getLocalMap("trisync.ops.local")
                .computeIfAbsent("operations", k -> {
                    LocalOperations local = new LocalOperations();
                    // On a context of its own, not the calling verticle's: a consumer registered from a
                    // verticle goes when that verticle is undeployed, and this registry is the node's.
                    ((VertxInternal) vertx).createEventLoopContext().runOnContext(v -> vertx.eventBus()
                            .<JsonObject>consumer(
                                    OpsAddresses.CANCELLED,
                                    m -> local.cancelled(m.body().getString("opId"))));
                    return local;
                });
    }

    /** Stops operation {@code opId} if it runs here: it was cancelled (its record ended already). */
    private void cancelled(String opId) {
        List<TrackedOperation> ops;
        synchronized (this) {
            ops = running.stream().filter(op -> op.record().id().equals(opId)).toList();
        }
        ops.forEach(TrackedOperation::cancelled);
    }

    /** Why the node stops, once it does; null while it runs. */
    public synchronized Interruption stopping() {
        return stopping;
    }

    /** Registers a started operation; false (not registered) when the node is already stopping. */
    synchronized boolean add(TrackedOperation op) {
        if (stopping != null) {
            return false;
        }
        running.add(op);
        return true;
    }

    /** Forgets an operation that has ended. */
    synchronized void remove(TrackedOperation op) {
        running.remove(op);
    }

    /** How many operations run here now. */
    public synchronized int size() {
        return running.size();
    }

    /**
     * Stops taking operations and ends every one running here as failed with {@code why}: its last
     * progress and the end in one fenced pair of writes, its tenant's slot freed, {@code
     * sync.op_failed} published. Each write may take {@code bound} (a store that does not answer
     * must not hold the stop), so this completes within about twice that, with how many it ended;
     * never fails.
     */
    public Future<Integer> interruptAll(Interruption why, Duration bound) {
        List<TrackedOperation> ops;
        synchronized (this) {
            if (stopping == null) {
                stopping = why;
            }
            ops = new ArrayList<>(running);
        }
        if (ops.isEmpty()) {
            return Future.succeededFuture(0);
        }
        LOG.info("{}: ending its {} running operation(s)", why.reason().replace(" while it ran", ""), ops.size());
        List<Future<Boolean>> ended = new ArrayList<>();
        for (TrackedOperation op : ops) {
            // Bounded here too, should the operation's event loop be too busy to run the interruption.
            ended.add(op.interrupt(why, bound)
                    .timeout(bound.multipliedBy(2).plusSeconds(1).toMillis(), TimeUnit.MILLISECONDS));
        }
        return Future.join(ended)
                .transform(all -> Future.succeededFuture((int) ended.stream()
                        .filter(f -> f.succeeded() && Boolean.TRUE.equals(f.result()))
                        .count()));
    }
}
