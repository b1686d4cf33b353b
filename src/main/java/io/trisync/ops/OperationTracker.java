package io.trisync.ops;

import io.trisync.bus.Membership;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.store.Actor;
import io.trisync.store.Incarnations;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.store.SyncOperationStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts tracked sync operations for any verticle. One running operation per tenant, cluster-wide:
 * a start while another runs fails with 409 carrying the running one (as JSON in the failure
 * message), unless that one is stuck ({@link StuckRule}), in which case it is failed and replaced.
 * Once its node stops ({@link LocalOperations}) it starts nothing more: 503, the client tries another node.
 */
public final class OperationTracker {

    private static final Logger LOG = LoggerFactory.getLogger(OperationTracker.class);

    private final Vertx vertx;
    private final SyncOperationStore store;
    private final EventPublisher events;
    private final TimeoutPolicy timeouts;
    private final StuckRule stuck;
    private final Membership membership;
    private final Incarnations incarnations;
    private final Duration heartbeatInterval;
    private final Metrics metrics;
    private final LocalOperations local;

    public OperationTracker(
            Vertx vertx,
            SyncOperationStore store,
            EventPublisher events,
            TimeoutPolicy timeouts,
            Duration heartbeatInterval,
            Membership membership,
            Incarnations incarnations) {
        this(vertx, store, events, timeouts, heartbeatInterval, membership, incarnations, Metrics.none());
    }

    public OperationTracker(
            Vertx vertx,
            SyncOperationStore store,
            EventPublisher events,
            TimeoutPolicy timeouts,
            Duration heartbeatInterval,
            Membership membership,
            Incarnations incarnations,
            Metrics metrics) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.local = LocalOperations.of(vertx);
        this.store = store;
        this.events = events;
        this.timeouts = timeouts;
        this.stuck = new StuckRule(heartbeatInterval);
        this.membership = membership;
        this.incarnations = incarnations;
        this.heartbeatInterval = heartbeatInterval;
    }

    /** The tracker of a verticle that runs operations on this node: timeouts and heartbeats from {@code config}. */
    public static OperationTracker of(Vertx vertx, TrisyncConfig config, Stores stores, EventPublisher events) {
        return new OperationTracker(
                vertx,
                stores.syncOperations(),
                events,
                TimeoutPolicy.of(config.sync()),
                Duration.ofSeconds(config.sync().heartbeatIntervalSeconds()),
                Membership.of(vertx, config.nodeId()),
                stores.incarnations(),
                Metrics.of(config));
    }

    /**
     * Cancels running operation {@code op}: its record ended as cancelled for {@code reason} (its tenant's
     * slot freed), {@code sync.op_failed} published with that status, and the node running it told to
     * stop it at once ({@link OpsAddresses#CANCELLED}). Completes with false when it had ended already.
     */
    public Future<Boolean> cancel(SyncOperation op, String reason, JsonObject result) {
        return store.finish(op, SyncOperation.Status.CANCELLED, reason, result).compose(ended -> {
            if (!ended) {
                return Future.succeededFuture(false);
            }
            ended(metrics, op, SyncOperation.Status.CANCELLED);
            vertx.eventBus().publish(OpsAddresses.CANCELLED, new JsonObject().put("opId", op.id()));
            return TrackedOperation.publishFailed(events, op, SyncOperation.Status.CANCELLED, reason)
                    .transform(published -> {
                        if (published.failed()) {
                            LOG.warn(
                                    "The cancel of sync {} was not published: {}",
                                    op.id(),
                                    published.cause().getMessage());
                        }
                        return Future.succeededFuture(true);
                    });
        });
    }

    /** Starts an operation of trisync's own ({@link Actor#SYSTEM}), as a periodic check does. */
    public Future<TrackedOperation> start(String tenantId, String kind, long totalFiles) {
        return start(tenantId, kind, totalFiles, Actor.SYSTEM);
    }

    /** Starts an operation of {@code kind} over {@code totalFiles} files for a tenant, as {@code actor} asked. */
    public Future<TrackedOperation> start(String tenantId, String kind, long totalFiles, Actor actor) {
        return attempt(tenantId, kind, totalFiles, actor, true);
    }

    private Future<TrackedOperation> attempt(
            String tenantId, String kind, long totalFiles, Actor actor, boolean mayReplace) {
        if (local.stopping() != null) {
            return Future.failedFuture(stopping());
        }
        Instant now = Instant.now();
        long expected = timeouts.expectedSeconds(totalFiles);
        SyncOperation op = new SyncOperation(
                UUID.randomUUID().toString(),
                tenantId,
                kind,
                SyncOperation.Status.RUNNING,
                now,
                null,
                now,
                expected,
                new SyncOperation.Progress("initializing", 0, 0, totalFiles),
                0,
                null,
                membership.memberId(),
                membership.name(),
                incarnations.id(),
                null,
                actor);
        return store.start(op)
                .compose(v -> {
                    TrackedOperation tracked = new TrackedOperation(
                            vertx, store, events, metrics, local, op, heartbeatInterval.toMillis());
                    if (!local.add(tracked)) {
                        // The node began to stop while the start was being written: ended at once.
                        return tracked.interrupt(local.stopping(), LocalOperations.STOP_WRITE_BOUND)
                                .transform(ended -> Future.<TrackedOperation>failedFuture(stopping()));
                    }
                    LOG.info("Started sync {} for tenant {} (timeout: {}s)", op.id(), tenantId, expected);
                    events.publish(
                            tenantId,
                            EventTypes.OP_STARTED,
                            null,
                            op.id(),
                            new JsonObject()
                                    .put(SyncOperation.KIND, kind)
                                    .put(SyncOperation.EXPECTED_DURATION_SECONDS, expected));
                    return Future.succeededFuture(tracked);
                })
                .recover(error -> error instanceof Failure.Conflict
                        ? occupied(tenantId, kind, totalFiles, actor, mayReplace)
                        : Future.failedFuture(error));
    }

    private Future<TrackedOperation> occupied(
            String tenantId, String kind, long totalFiles, Actor actor, boolean mayReplace) {
        // A start that lost to one whose operation is not written yet reads no holder: it tries once
        // more, and the second time waits for the holder to show, to name it in the conflict.
        return running(tenantId, mayReplace ? 0 : 10).compose(running -> {
            if (running == null) {
                return mayReplace ? attempt(tenantId, kind, totalFiles, actor, false) : busy(null);
            }
            return incarnations
                    .goneAmong(Collections.singleton(running.incarnation()))
                    .compose(gone -> {
                        StuckRule.Verdict verdict = stuck.judge(running, Instant.now(), membership.liveMembers(), gone);
                        if (verdict == null || !mayReplace) {
                            return busy(running);
                        }
                        return endStuck(store, events, metrics, running, verdict, null)
                                .compose(v -> attempt(tenantId, kind, totalFiles, actor, false));
                    });
        });
    }

    /**
     * The tenant's running operation. A start takes the tenant's slot, then writes its operation: a
     * conflicting start that reads in between finds no running operation yet, and reads again
     * shortly ({@code tries} times, 20 ms apart).
     */
    private Future<SyncOperation> running(String tenantId, int tries) {
        return store.running(tenantId).compose(running -> {
            if (running != null || tries <= 0) {
                return Future.succeededFuture(running);
            }
            Promise<Void> later = Promise.promise();
            vertx.setTimer(20, id -> later.complete());
            return later.future().compose(v -> running(tenantId, tries - 1));
        });
    }

    /** Fails a stuck operation (fenced) and publishes {@code sync.op_failed}; completes with whether it ended it. */
    static Future<Boolean> endStuck(
            SyncOperationStore store,
            EventPublisher events,
            Metrics metrics,
            SyncOperation op,
            StuckRule.Verdict verdict,
            Actor by) {
        JsonObject result = by == null ? null : new JsonObject().put("cleaned_by", by.toJson());
        return store.finish(op, verdict.status(), verdict.reason(), result).onSuccess(ended -> {
            if (ended) {
                metrics.stuckCleaned(verdict.layer());
                ended(metrics, op, verdict.status());
                LOG.warn(
                        "Sync {} of tenant {} ended as {}: {}",
                        op.id(),
                        op.tenantId(),
                        verdict.status().wire(),
                        verdict.reason());
                events.publish(
                        op.tenantId(),
                        EventTypes.OP_FAILED,
                        null,
                        op.id(),
                        new JsonObject()
                                .put(SyncOperation.KIND, op.kind())
                                .put(SyncOperation.STATUS, verdict.status().wire())
                                .put("reason", verdict.reason()));
            }
        });
    }

    private Failure stopping() {
        return new Failure.Unavailable("node " + membership.name() + " is stopping; start the operation again");
    }

    /** Counts an operation that has just ended with {@code status}. */
    static void ended(Metrics metrics, SyncOperation op, SyncOperation.Status status) {
        metrics.operationEnded(op.kind(), status.wire(), Duration.between(op.startedAt(), Instant.now()));
    }

    private static <T> Future<T> busy(SyncOperation running) {
        JsonObject body = new JsonObject()
                .put("conflict", true)
                .put("latest_sync", running == null ? null : running.toPublicJson());
        return Future.failedFuture(new Failure.Conflict(body.encode()));
    }
}
