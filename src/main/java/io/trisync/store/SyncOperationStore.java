package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Tracked sync operations (MongoDB {@code sync_operations}) and the one-running-per-tenant rule,
 * enforced by the database: a tenant's slot is a document in {@code sync_tenant_slots} whose
 * {@code _id} is the tenant, so a second insert fails on the unique {@code _id} whatever node tries.
 * Every write to a running operation is fenced on {@code status = running}: once an operation has
 * ended (completed, failed by the monitor, cancelled) no late write can change it.
 */
public interface SyncOperationStore {

    /** Creates the indexes history and the monitor rely on. */
    Future<Void> init();

    /**
     * Takes the tenant's slot and records the operation. Fails with {@link Failure.Conflict}
     * when another operation holds the slot, writing nothing.
     */
    Future<Void> start(SyncOperation op);

    /**
     * The running operation holding the tenant's slot, or null. A start takes the slot before it
     * writes its operation, so a slot whose operation is not written yet reads as null too. A slot
     * left behind is freed: one naming an operation that ended, and one whose operation was still
     * unwritten {@link #UNWRITTEN_GRACE} after the slot was taken (its node died between the two writes).
     */
    Future<SyncOperation> running(String tenantId);

    /** How long a slot may name an operation that is not written yet before it counts as left behind. */
    Duration UNWRITTEN_GRACE = Duration.ofMinutes(1);

    /** Every running operation (for the monitor). */
    Future<List<SyncOperation>> allRunning();

    /**
     * Each tenant's last scan, when it ended: its latest completed scan that recorded its verdicts, a
     * full or deep one (the periodic check is a full scan), not a quick check (its result's {@link
     * SyncOperation#RESULT_MODE} is {@link SyncOperation#QUICK}; a scan completed before the mode was kept
     * names none and counts). Tenants never scanned are absent.
     */
    Future<Map<String, Instant>> lastScans();

    /** When the tenant's last scan (as {@link #lastScans()} counts them) ended; null when it has none. */
    Future<Instant> lastScan(String tenantId);

    /** Retention: removes up to a batch of operations that ended before {@code before}; their ids. */
    Future<List<String>> removeEnded(Instant before);

    /** Records a heartbeat with progress; completes false when the operation is no longer running (fenced). */
    Future<Boolean> heartbeat(String opId, SyncOperation.Progress progress, long filesProcessed);

    /**
     * Ends a running operation with {@code status} and frees its tenant's slot. Completes false, and
     * changes nothing, when it had already ended (fenced).
     */
    Future<Boolean> finish(SyncOperation op, SyncOperation.Status status, String errorMessage, JsonObject result);

    /** The operation; fails with {@link Failure.NotFound}. */
    Future<SyncOperation> get(String opId);

    /** Newest first, of one tenant (or all when null) and one status (or all when null). */
    Future<List<SyncOperation>> history(String tenantId, SyncOperation.Status status, int limit);
}
