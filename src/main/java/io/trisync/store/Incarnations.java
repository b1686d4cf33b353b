package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's incarnation and the judgement of others'. Registers the incarnation at start, renews
 * its heartbeat every {@link #HEARTBEAT}, records a clean stop, and answers which of the incarnations
 * named on unfinished work are gone ({@link IncarnationRule}), so recovery takes that work at once.
 * Those who recover register with {@link #onGone(Runnable)} to hear when a cluster member leaves.
 */
public final class Incarnations {

    private static final Logger LOG = LoggerFactory.getLogger(Incarnations.class);
    /** How often an incarnation renews its heartbeat. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);
    /** Silence that makes an incarnation gone: the grace period, and never less than three heartbeats. */
    public static Duration staleAfter(Duration grace) {
        Duration threeBeats = HEARTBEAT.multipliedBy(3);
        return grace.compareTo(threeBeats) > 0 ? grace : threeBeats;
    }

    /** Records silent this long are removed at start. */
    private static final Duration KEEP = Duration.ofDays(7);

    private final Vertx vertx;
    private final IncarnationStore store;
    private final Incarnation self;
    private final Supplier<Set<String>> members;
    private final IncarnationRule rule;
    private final List<Runnable> goneListeners = new CopyOnWriteArrayList<>();
    private long timer = -1;

    /**
     * {@code members}: the cluster's node ids alive now, or null when standalone. {@code staleAfter}:
     * how long an incarnation may be silent before it counts as gone (the ingest grace period: a
     * heartbeat is a poorer sign than membership or the process table, since a MongoDB election, a long
     * pause or clock skew silences it too).
     */
    public Incarnations(
            Vertx vertx, IncarnationStore store, Incarnation self, Supplier<Set<String>> members, Duration staleAfter) {
        this.vertx = vertx;
        this.store = store;
        this.self = self;
        this.members = members;
        this.rule = new IncarnationRule(self, staleAfter, IncarnationRule.ProcessProbe.SYSTEM);
    }

    /** This node's incarnation id, recorded on the work it holds. */
    public String id() {
        return self.id();
    }

    /** Registers this incarnation and starts its heartbeat. */
    public Future<Void> start() {
        return store.register(self).onSuccess(v -> {
            LOG.info("Node {} runs as incarnation {} (pid {})", self.nodeId(), self.id(), self.pid());
            timer = vertx.setPeriodic(HEARTBEAT.toMillis(), id -> store.heartbeat(self.id(), Instant.now())
                    .onFailure(e -> LOG.warn("Incarnation heartbeat failed: {}", e.getMessage())));
            store.prune(Instant.now().minus(KEEP))
                    .onFailure(e -> LOG.warn("Could not prune old incarnations: {}", e.getMessage()));
        });
    }

    /** Stops the heartbeat and records a clean stop, so others recover what is left at once. */
    public Future<Void> stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        return store.end(self.id(), Instant.now());
    }

    /**
     * The incarnations among {@code ids} that are gone, each with the reason. An id with no record
     * (work recorded before incarnations existed) is not judged here: its lease decides.
     */
    public Future<Map<String, String>> goneAmong(Collection<String> ids) {
        List<String> others = ids.stream()
                .filter(Objects::nonNull)
                .filter(i -> !i.equals(self.id()))
                .distinct()
                .toList();
        if (others.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        return store.find(others).map(found -> {
            Instant now = Instant.now();
            Set<String> live = members.get();
            Map<String, String> gone = new HashMap<>();
            for (Incarnation other : found) {
                String reason = rule.goneBecause(other, now, live);
                if (reason != null) {
                    gone.put(other.id(), reason);
                }
            }
            return gone;
        });
    }

    /** Calls {@code listener} whenever a cluster member leaves (on no particular thread). */
    public void onGone(Runnable listener) {
        goneListeners.add(listener);
    }

    /** Removes a listener added with {@link #onGone(Runnable)}. */
    public void removeGoneListener(Runnable listener) {
        goneListeners.remove(listener);
    }

    /** Tells the listeners that a cluster member left (called by the node's membership listener). */
    public void memberLeft() {
        goneListeners.forEach(Runnable::run);
    }
}
