package io.trisync.ops;

import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.store.Event;
import io.trisync.store.SyncOperation;
import io.trisync.store.SyncOperation.Progress;
import io.trisync.store.SyncOperationStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running sync operation as its code sees it. Heartbeats (with the latest progress) go out every
 * interval on their own; the operation ends itself as timed out when its expected duration passes
 * (layer 1). Every write is fenced: once the operation has ended anywhere (the monitor failed it,
 * someone cancelled it) {@link #stopped()} turns true, and {@link #complete} and {@link #fail} are
 * refused, so the code stops writing to the stores. While it runs it is listed in its node's {@link
 * LocalOperations}, so a graceful stop of the node ends it at once ({@link #interrupt}).
 */
public final class TrackedOperation {

    private static final Logger LOG = LoggerFactory.getLogger(TrackedOperation.class);
    private static final long PROGRESS_EVENT_MIN_GAP_MS = 500;

    /**
     * Progress is written to the operation's record at most this often (and once more after the last
     * change within the gap), not only at heartbeats: the status endpoints read the record, and showed
     * a re-index at 0 files for the whole heartbeat interval (30 s by default).
     */
    static final long PROGRESS_WRITE_MIN_GAP_MS = 2000;

    private final Vertx vertx;
    private final SyncOperationStore store;
    private final EventPublisher events;
    private final Metrics metrics;
    private final LocalOperations local;
    private final SyncOperation record;
    /** Where the code that runs it lives: an interruption from the stopping thread runs here. */
    private final Context context;

    private Progress progress;
    private long filesProcessed;
    private long lastProgressEvent;
    private long lastProgressWrite;
    private boolean progressWritePending;
    private volatile boolean stopped;
    private final long heartbeatTimer;
    private final long deadlineTimer;

    TrackedOperation(
            Vertx vertx,
            SyncOperationStore store,
            EventPublisher events,
            Metrics metrics,
            LocalOperations local,
            SyncOperation record,
            long heartbeatMillis) {
        this.vertx = vertx;
        this.store = store;
        this.events = events;
        this.metrics = metrics;
        this.local = local;
        this.record = record;
        this.context = vertx.getOrCreateContext();
        // As started (its total known), until the code reports progress: a heartbeat writes it back.
        this.progress = record.progress();
        this.heartbeatTimer = vertx.setPeriodic(heartbeatMillis, id -> heartbeat());
        this.deadlineTimer = vertx.setTimer(record.expectedDurationSeconds() * 1000, id -> timeOut());
    }

    /** The operation as started. */
    /** The files processed so far, as last reported by {@link #progress} (the record holds the count at start). */
    public long filesProcessed() {
        return filesProcessed;
    }

    public SyncOperation record() {
        return record;
    }

    /** True once the operation has ended for any reason: the code must stop and write nothing more. */
    public boolean stopped() {
        return stopped;
    }

    /**
     * Notes progress; it is written to the record at most every {@link #PROGRESS_WRITE_MIN_GAP_MS} (and
     * with each heartbeat) and published at most twice a second.
     */
    public void progress(String stage, long currentFile, long totalFiles, long processed) {
        progress(stage, currentFile, totalFiles, processed, null, null);
    }

    /** Notes progress with the rate of work (items a second) and the estimated seconds left. */
    public void progress(
            String stage, long currentFile, long totalFiles, long processed, Double rate, Long etaSeconds) {
        double pct = totalFiles <= 0 ? 0 : Math.min(100.0, Math.round(1000.0 * currentFile / totalFiles) / 10.0);
        note(new Progress(stage, pct, currentFile, totalFiles, rate, etaSeconds, null, null), processed);
    }

    /**
     * Notes progress that tells the files dealt with apart: {@code reindexed} files done and {@code
     * skipped} left out of {@code totalFiles}, both counted as processed, with the rate of work and
     * the estimated seconds left; while {@code partitions} is not null (verifying) the share done is
     * measured in partitions, {@code partitionsDone} of them.
     */
    public void progressOfFiles(
            String stage,
            long reindexed,
            long skipped,
            long totalFiles,
            Double rate,
            Long etaSeconds,
            Integer partitionsDone,
            Integer partitions) {
        long current = reindexed + skipped;
        long total = Math.max(current, totalFiles);
        double pct = partitions != null
                ? (partitions <= 0 ? 0 : Math.min(100.0, Math.round(1000.0 * partitionsDone / partitions) / 10.0))
                : (total <= 0 ? 0 : Math.min(100.0, Math.round(1000.0 * current / total) / 10.0));
        note(
                new Progress(
                        stage, pct, current, total, rate, etaSeconds, partitionsDone, partitions, reindexed, skipped),
                current);
    }

    /**
     * Notes the progress of work done in partitions: {@code currentFile} of {@code totalFiles} files
     * checked so far, and the share done measured in partitions ({@code partitionsDone} of {@code
     * partitions}), since a partition's files are known only once it is read.
     */
    public void progressByPartition(
            String stage, long currentFile, long totalFiles, int partitionsDone, int partitions) {
        double pct = partitions <= 0 ? 0 : Math.min(100.0, Math.round(1000.0 * partitionsDone / partitions) / 10.0);
        note(
                new Progress(
                        stage,
                        pct,
                        currentFile,
                        Math.max(currentFile, totalFiles),
                        null,
                        null,
                        partitionsDone,
                        partitions),
                currentFile);
    }

    /**
     * Keeps {@code next} and publishes it, at most one event every {@link #PROGRESS_EVENT_MIN_GAP_MS}
     * unless the stage changed: a new stage (the last one, {@code finalizing}, included) is always
     * told, so a watcher sees the final count even of an operation that ends within the gap.
     */
    private void note(Progress next, long processed) {
        boolean newStage = progress == null || !progress.stage().equals(next.stage());
        progress = next;
        filesProcessed = processed;
        long now = System.currentTimeMillis();
        if (newStage) {
            // Written now, not at the next heartbeat (SYNC_HEARTBEAT_INTERVAL_SECONDS): the status
            // endpoint reads the stored record, and showed `initializing` for up to that long.
            lastProgressWrite = now;
            heartbeat();
        } else {
            writeProgressSoon(now);
        }
        if (!stopped && (newStage || now - lastProgressEvent >= PROGRESS_EVENT_MIN_GAP_MS)) {
            lastProgressEvent = now;
            events.publish(
                    record.tenantId(),
                    EventTypes.OP_PROGRESS,
                    null,
                    record.id(),
                    progress.toJson().put(SyncOperation.FILES_PROCESSED, processed));
        }
    }

    /**
     * Writes the progress now when the last write is {@link #PROGRESS_WRITE_MIN_GAP_MS} old, else once
     * when it will be (a trailing write: the last progress within the gap is not left to the heartbeat).
     */
    private void writeProgressSoon(long now) {
        long due = lastProgressWrite + PROGRESS_WRITE_MIN_GAP_MS;
        if (now >= due) {
            lastProgressWrite = now;
            heartbeat();
        } else if (!progressWritePending) {
            progressWritePending = true;
            vertx.setTimer(due - now, id -> {
                progressWritePending = false;
                if (!stopped) {
                    lastProgressWrite = System.currentTimeMillis();
                    heartbeat();
                }
            });
        }
    }

    /** Ends the operation as completed (event logged); refused (409) when it had already ended elsewhere. */
    public Future<Void> complete(JsonObject result) {
        return end(SyncOperation.Status.COMPLETED, null, result).compose(v -> {
            LOG.info("Sync {} completed successfully", record.id());
            return events.publish(
                            record.tenantId(),
                            EventTypes.OP_COMPLETED,
                            null,
                            record.id(),
                            new JsonObject()
                                    .put(SyncOperation.KIND, record.kind())
                                    .put(SyncOperation.RESULT, result))
                    .mapEmpty();
        });
    }

    /** Logs and publishes {@code sync.op_failed} with {@code reason}. */
    private Future<Event> publishFailed(String reason) {
        return publishFailed(SyncOperation.Status.FAILED, reason);
    }

    /** Logs and publishes {@code sync.op_failed}: ended with {@code status} (failed or timed out) for {@code reason}. */
    private Future<Event> publishFailed(SyncOperation.Status status, String reason) {
        return publishFailed(events, record, status, reason);
    }

    /** Logs and publishes {@code sync.op_failed} of {@code record}: ended with {@code status} for {@code reason}. */
    static Future<Event> publishFailed(
            EventPublisher events, SyncOperation record, SyncOperation.Status status, String reason) {
        return events.publish(
                record.tenantId(),
                EventTypes.OP_FAILED,
                null,
                record.id(),
                new JsonObject()
                        .put(SyncOperation.KIND, record.kind())
                        .put(SyncOperation.STATUS, status.wire())
                        .put("reason", reason));
    }

    /** Ends the operation as failed with {@code message} (event logged); refused (409) when it had already ended. */
    public Future<Void> fail(String message) {
        return end(SyncOperation.Status.FAILED, message, null).compose(v -> {
            LOG.warn("Sync {} failed: {}", record.id(), message);
            return publishFailed(message).mapEmpty();
        });
    }

    private Future<Void> end(SyncOperation.Status status, String message, JsonObject result) {
        boolean wasStopped = stopped;
        halt();
        if (wasStopped) {
            return refused();
        }
        return store.heartbeat(record.id(), progress, filesProcessed)
                .compose(alive -> alive ? store.finish(record, status, message, result) : Future.succeededFuture(false))
                .compose(ended -> {
                    if (!ended) {
                        return refused();
                    }
                    OperationTracker.ended(metrics, record, status);
                    return Future.<Void>succeededFuture();
                });
    }

    private Future<Void> refused() {
        return Future.failedFuture(
                new Failure.Conflict("sync " + record.id() + " had already ended; its result was not recorded"));
    }

    private void heartbeat() {
        if (stopped) {
            return;
        }
        store.heartbeat(record.id(), progress, filesProcessed).onSuccess(alive -> {
            if (!alive && !stopped) {
                LOG.warn("Sync {} was ended elsewhere (failed by a monitor or cancelled); stopping it", record.id());
                halt();
            }
        });
    }

    private void timeOut() {
        if (stopped) {
            return;
        }
        halt();
        String reason = "expected duration of " + record.expectedDurationSeconds() + "s passed";
        store.finish(record, SyncOperation.Status.TIMED_OUT, reason, null).onSuccess(ended -> {
            if (ended) {
                OperationTracker.ended(metrics, record, SyncOperation.Status.TIMED_OUT);
                LOG.warn("Sync {} timed out", record.id());
                publishFailed(SyncOperation.Status.TIMED_OUT, reason);
            }
        });
    }

    /**
     * Ends the operation because its node stops ({@link LocalOperations#interruptAll}): as failed with
     * {@code why}'s reason and result, its last progress written with it (a re-index's count matches
     * its checkpoints), its tenant's slot freed, {@code sync.op_failed} published. Runs on the
     * operation's own context; the two fenced writes together, and the event, may each take {@code
     * bound}. Completes with whether it ended the operation (false: it had ended already).
     */
    Future<Boolean> interrupt(Interruption why, Duration bound) {
        Promise<Boolean> done = Promise.promise();
        context.runOnContext(v -> interruptHere(why, bound).onComplete(done));
        return done.future();
    }

    private Future<Boolean> interruptHere(Interruption why, Duration bound) {
        if (stopped) {
            return Future.succeededFuture(false);
        }
        halt();
        String reason = why.reason();
        long ms = bound.toMillis();
        return store.heartbeat(record.id(), progress, filesProcessed)
                .compose(alive -> alive
                        ? store.finish(record, SyncOperation.Status.FAILED, reason, why.result(record.kind()))
                        : Future.succeededFuture(false))
                .timeout(ms, TimeUnit.MILLISECONDS)
                .compose(ended -> {
                    if (!ended) {
                        return Future.succeededFuture(false);
                    }
                    OperationTracker.ended(metrics, record, SyncOperation.Status.FAILED);
                    LOG.warn("Sync {} of tenant {} ended as failed: {}", record.id(), record.tenantId(), reason);
                    return publishFailed(reason)
                            .timeout(ms, TimeUnit.MILLISECONDS)
                            .transform(published -> {
                                if (published.failed()) {
                                    LOG.warn(
                                            "The end of sync {} was not published: {}",
                                            record.id(),
                                            published.cause().getMessage());
                                }
                                return Future.succeededFuture(true);
                            });
                })
                .onFailure(e -> LOG.warn(
                        "Sync {} could not be ended as its node stops (left to the monitor of another node or"
                                + " to the next start): {}",
                        record.id(),
                        e.getMessage()));
    }

    /**
     * Its record was ended as cancelled ({@link OperationTracker#cancel}): stops it here at once, on its
     * own context, so its code writes nothing from its next step on instead of its next heartbeat.
     */
    void cancelled() {
        context.runOnContext(v -> {
            if (!stopped) {
                LOG.info(
                        "Sync {} of tenant {} was cancelled; it stops before its next step",
                        record.id(),
                        record.tenantId());
                halt();
            }
        });
    }

    /** Marks the operation stopped: no more heartbeats, no deadline, no longer listed on its node. */
    private void halt() {
        stopped = true;
        stopTimers();
        local.remove(this);
    }

    private void stopTimers() {
        vertx.cancelTimer(heartbeatTimer);
        vertx.cancelTimer(deadlineTimer);
    }
}
