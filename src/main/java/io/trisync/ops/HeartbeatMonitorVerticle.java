package io.trisync.ops;

import io.trisync.bus.Membership;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches tracked sync operations (layer 2): at start, every {@code SYNC_CLEANUP_INTERVAL_SECONDS},
 * and as soon as a cluster member leaves, fails every running operation that is stuck ({@link
 * StuckSweep}). Runs on every node. The ops requests of the HTTP API are {@link OpsVerticle}'s.
 */
public final class HeartbeatMonitorVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatMonitorVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private StuckSweep stuck;
    private Membership membership;
    private UUID membershipListener;
    private long timer = -1;

    public HeartbeatMonitorVerticle(TrisyncConfig config, Stores stores) {
        this.config = config;
        this.stores = stores;
    }

    @Override
    public Future<?> start() {
        membership = Membership.of(vertx, config.nodeId());
        stuck = StuckSweep.of(vertx, config, stores, membership);
        var context = vertx.getOrCreateContext();
        membershipListener = membership.onMemberLeft(() -> context.runOnContext(v -> sweep()));
        timer = vertx.setPeriodic(config.sync().cleanupIntervalSeconds() * 1000L, id -> sweep());
        sweep().onFailure(e -> LOG.warn("First stuck-operation sweep failed: {}", e.getMessage()));
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        membership.removeListener(membershipListener);
        return Future.succeededFuture();
    }

    private Future<Integer> sweep() {
        return stuck.run();
    }
}
