package io.trisync.ops;

import io.trisync.bus.Membership;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.metrics.Metrics;
import io.trisync.store.Actor;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass over the running tracked operations: ends every one the {@link StuckRule} condemns
 * (heartbeat older than three intervals, expected duration passed, holder gone). The fenced finish
 * makes two nodes sweeping at once harmless: only one write matches.
 */
final class StuckSweep {

    private static final Logger LOG = LoggerFactory.getLogger(StuckSweep.class);

    private final Stores stores;
    private final EventPublisher events;
    private final StuckRule rule;
    private final Membership membership;
    private final Metrics metrics;

    StuckSweep(Stores stores, EventPublisher events, StuckRule rule, Membership membership, Metrics metrics) {
        this.metrics = metrics;
        this.stores = stores;
        this.events = events;
        this.rule = rule;
        this.membership = membership;
    }

    /** The sweep of a node: the rule from {@code SYNC_HEARTBEAT_INTERVAL_SECONDS}, events on {@code vertx}'s bus. */
    static StuckSweep of(Vertx vertx, TrisyncConfig config, Stores stores, Membership membership) {
        return new StuckSweep(
                stores,
                EventPublisher.of(vertx, config, stores),
                new StuckRule(Duration.ofSeconds(config.sync().heartbeatIntervalSeconds())),
                membership,
                Metrics.of(config));
    }

    /** Ends every stuck running operation; completes with how many this node ended. */
    Future<Integer> run() {
        return run(null);
    }

    /** A sweep someone asked for ({@code POST /api/v1/sync/cleanup}): each operation it ends records {@code by}. */
    Future<Integer> run(Actor by) {
        return stores.syncOperations().allRunning().compose(running -> stores.incarnations()
                .goneAmong(running.stream().map(SyncOperation::incarnation).toList())
                .compose(gone -> endStuck(running, gone, by)));
    }

    private Future<Integer> endStuck(List<SyncOperation> running, Map<String, String> gone, Actor by) {
        Instant now = Instant.now();
        Set<String> live = membership.liveMembers();
        List<Future<Boolean>> ended = new ArrayList<>();
        for (SyncOperation op : running) {
            StuckRule.Verdict verdict = rule.judge(op, now, live, gone);
            if (verdict != null) {
                ended.add(OperationTracker.endStuck(stores.syncOperations(), events, metrics, op, verdict, by));
            }
        }
        return Future.join(ended).map(all -> {
            int n = (int)
                    ended.stream().filter(f -> f.succeeded() && f.result()).count();
            if (n > 0) {
                LOG.info("Cleaned up {} stuck sync operations", n);
            }
            return n;
        });
    }
}
