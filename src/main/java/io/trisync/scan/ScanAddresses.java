package io.trisync.scan;

import io.trisync.ops.OpsAddresses;

/**
 * Event-bus addresses owned by {@link ScanVerticle} ({@link #PARTITION} by {@link PartitionVerticle});
 * point-to-point requests.
 */
public final class ScanAddresses {

    /** Sent by the ops HTTP API ({@code POST /api/v1/sync}, kind scan); starts a tracked scan, replies with it. */
    public static final String START = OpsAddresses.start("scan");

    /** Sent by the HTTP API ({@code POST /api/sync/analyze}); scans and replies with the report. */
    public static final String ANALYZE = "trisync.scan.analyze";

    /** Sent by the HTTP API ({@code GET /api/sync/status/{user_id}}); replies with the tenant's summary and files. */
    public static final String TENANT_STATUS = "trisync.scan.tenant-status";
    /** One file's story: its stores, issues and timeline ({@link ScanMessages.StoryQuery}). */
    public static final String FILE_STORY = "trisync.scan.file-story";

    /**
     * Sent by the HTTP API ({@code POST /api/sync/consistency-check}) and by each node's periodic timer;
     * starts a scan of every tenant ({@code onlyDue}: only those not scanned within the check interval)
     * and replies with the operation ids started and the tenants skipped.
     */
    public static final String CONSISTENCY_CHECK = "trisync.scan.consistency-check";

    /**
     * One partition of a running scan: {@code {tenantId, partition, mode, opId}}; the receiver reads the
     * three stores for it, reconciles, keeps the results and replies with the partition's summary
     * ({@link ScanReport.Part}). Scans send their partitions here, several at once, so the cluster's
     * round-robin spreads one scan's partitions across every node running a scan verticle.
     */
    public static final String PARTITION = "trisync.scan.partition";

    /** Sent by the HTTP API ({@code GET /api/sync/tenants}): every tenant's summary and running operation. */
    public static final String OVERVIEW = "trisync.scan.overview";

    /** The trend samples of a tenant or of all tenants: {@link ScanMessages.TrendsQuery}. */
    public static final String TRENDS = "trisync.scan.trends";

    /**
     * Sent (one way, no reply) by the node that ran a periodic scan once it completed: {@code
     * {tenantId}}. With {@code SYNC_AUTO_REPAIR} a repair verticle takes it and applies the repairs
     * that need no person; scans do not know who listens.
     */
    public static final String PERIODIC_SCAN_COMPLETED = "trisync.scan.periodic-completed";

    private ScanAddresses() {}
}
