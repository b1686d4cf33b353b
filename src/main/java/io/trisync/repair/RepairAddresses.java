package io.trisync.repair;

import io.trisync.ops.OpsAddresses;

/** Event-bus addresses owned by {@link RepairVerticle}; point-to-point requests. */
public final class RepairAddresses {

    /** Sent by the ops HTTP API ({@code POST /api/v1/sync}, kind repair): starts a fix of every open issue of a tenant. */
    public static final String START = OpsAddresses.start("repair");

    /**
     * Sent by the HTTP API ({@code POST /api/sync/fix}): {@code {tenantId?, dryRun, issueTypes?, fileIds?}};
     * a dry run replies with the plan, a real run with the ids of the operations started.
     */
    public static final String FIX = "trisync.repair.fix";

    /** Starts (or, dry run, estimates) a re-index of a tenant: the {@code reindex} operation kind. */
    public static final String REINDEX_START = OpsAddresses.start("reindex");

    /** One partition of a re-index, sent by the node that runs the operation to any repair node. */
    public static final String REINDEX_PARTITION = "trisync.reindex.partition";

    /** One-way, to the node running re-index {@code opId}: files and chunks a batch just did. */
    public static String reindexProgress(String opId) {
        return "trisync.reindex.progress." + opId;
    }

    /** {@code {opId}}: a fix operation, its result and its audit trail. */
    public static final String RESULT = "trisync.repair.result";

    /** Sent by operators and tests: {@code {tenantId}}; applies the repairs that need no person now (auto-repair does the same after each periodic scan). */
    public static final String AUTO = "trisync.repair.auto";

    /** {@code {tenantId?, state?, limit?}}: quarantine ledger entries. */
    public static final String QUARANTINE_LIST = "trisync.repair.quarantine.list";

    /** {@code {id, tenantId?}}: puts a quarantined object back. */
    public static final String QUARANTINE_RESTORE = "trisync.repair.quarantine.restore";

    /** {@code {tenantId?, olderThanDays?}}: deletes quarantined objects older than the retention period. */
    public static final String QUARANTINE_PURGE = "trisync.repair.quarantine.purge";

    private RepairAddresses() {}

    /**
     * Published when a re-index made the new collection of a change of embedding dimension serve
     * search (body: its name): every node reads the collection pointer again at once.
     */
    public static final String VECTORS_SWITCHED = "trisync.vectors.switched";
}
