package io.trisync.ops;

import io.trisync.config.TrisyncConfig;
import io.trisync.metrics.Metrics;
import io.trisync.store.FileRecord;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retention sweep: every {@code RETENTION_SWEEP_INTERVAL_SECONDS} (and once soon after start) it
 * removes what has outlived its {@code RETENTION_*_DAYS}: ended ingest operations and the idempotency
 * keys of ended ones, ended tracked operations with their repair audit, events, and the records of
 * deleted files. It never removes an unfinished operation or its key, a running operation, or a
 * tombstone that an unfinished operation, an open issue or a quarantined object still refers to.
 * The same sweep runs on the embedded and on a real MongoDB; several nodes sweeping at once only
 * delete the same records. A retention of 0 days keeps that kind of record for ever.
 */
public final class RetentionVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RetentionVerticle.class);
    private static final int TOMBSTONE_BATCH = 1000;

    private final TrisyncConfig.RetentionConfig retention;
    private final Stores stores;
    private final Metrics metrics;
    private long timer = -1;
    private boolean sweeping;

    public RetentionVerticle(TrisyncConfig config, Stores stores) {
        this.retention = config.retention();
        this.stores = stores;
        this.metrics = Metrics.of(config);
    }

    @Override
    public Future<?> start() {
        long every = retention.sweepIntervalSeconds() * 1000L;
        vertx.setTimer(Math.min(every, 5_000), id -> sweep());
        timer = vertx.setPeriodic(every, id -> sweep());
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        return Future.succeededFuture();
    }

    private void sweep() {
        if (sweeping) {
            return;
        }
        sweeping = true;
        Instant now = Instant.now();
        removeIngestOperations(now)
                .compose(v -> removeSyncOperations(now))
                .compose(v -> removeEvents(now))
                .compose(v -> removeTombstones(now))
                .onComplete(done -> {
                    sweeping = false;
                    metrics.retentionSwept(done.succeeded() ? "ok" : "error");
                    if (done.failed()) {
                        LOG.warn("Retention sweep stopped: {}", done.cause().getMessage());
                    }
                });
    }

    private Future<Void> removeIngestOperations(Instant now) {
        Instant before = cutoff(now, retention.ingestOperationsDays());
        return before == null
                ? Future.succeededFuture()
                : stores.operations().removeEnded(before).map(n -> counted("ingest_operation", n));
    }

    private Future<Void> removeSyncOperations(Instant now) {
        Instant before = cutoff(now, retention.syncOperationsDays());
        if (before == null) {
            return Future.succeededFuture();
        }
        return stores.syncOperations().removeEnded(before).compose(ids -> {
            counted("sync_operation", ids.size());
            return stores.repairs().removeAudits(ids).map(n -> counted("repair_action", n));
        });
    }

    private Future<Void> removeEvents(Instant now) {
        Instant before = cutoff(now, retention.eventsDays());
        return before == null
                ? Future.succeededFuture()
                : stores.events().removeBefore(before).map(n -> counted("event", n));
    }

    /** Tombstones old enough that nothing refers to any more: no unfinished operation, open issue or held object. */
    private Future<Void> removeTombstones(Instant now) {
        Instant before = cutoff(now, retention.tombstonesDays());
        if (before == null) {
            return Future.succeededFuture();
        }
        return stores.metadata().tombstonesBefore(before, TOMBSTONE_BATCH).compose(records -> {
            if (records.isEmpty()) {
                return Future.succeededFuture();
            }
            List<String> ids = records.stream().map(FileRecord::id).toList();
            Future<Set<String>> open = stores.operations().openAmong(ids);
            Future<Set<String>> issues = stores.issues().filesAmong(ids);
            Future<Set<String>> held = stores.repairs().heldAmong(ids);
            return Future.all(open, issues, held).compose(all -> {
                Set<String> needed = new HashSet<>(open.result());
                needed.addAll(issues.result());
                needed.addAll(held.result());
                List<String> expired =
                        ids.stream().filter(id -> !needed.contains(id)).toList();
                return stores.metadata().removeTombstones(expired).map(n -> counted("tombstone", n));
            });
        });
    }

    private Void counted(String record, long n) {
        if (n > 0) {
            metrics.retentionRemoved(record, n);
            LOG.info("Retention removed {} expired {} records", n, record);
        }
        return null;
    }

    private static Instant cutoff(Instant now, int days) {
        return days <= 0 ? null : now.minus(Duration.ofDays(days));
    }
}
