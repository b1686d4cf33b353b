package io.trisync.ops;

/** Event-bus addresses owned by {@link HeartbeatMonitorVerticle}; all point-to-point requests. */
public final class OpsAddresses {

    /** Sent by the HTTP API; replies with a tenant's latest operation and file counts. */
    public static final String STATUS = "trisync.ops.status";

    /** Sent by the HTTP API; fails every stuck operation now and replies with how many. */
    public static final String CLEANUP = "trisync.ops.cleanup";

    /** Sent by the HTTP API; replies with operations newest first. */
    public static final String HISTORY = "trisync.ops.history";

    /** Sent by the HTTP API; cancels a running operation. */
    public static final String CANCEL = "trisync.ops.cancel";

    /**
     * Published to every node once an operation was cancelled ({@code {opId}}): the node running it
     * stops it there and then, so its code stops before its next file rather than at its next heartbeat.
     */
    public static final String CANCELLED = "trisync.ops.cancelled";

    /** Sent by the HTTP API ({@code GET /api/sync/status}); replies with the service's state as this node sees it. */
    public static final String SERVICE_STATUS = "trisync.ops.service-status";

    private OpsAddresses() {}

    /**
     * The start address of an operation kind, owned by the capability that runs it: {@code
     * trisync.scan.start}, {@code trisync.repair.start}. Sent by the HTTP API with {@code {tenantId}}.
     */
    public static String start(String kind) {
        return "trisync." + kind + ".start";
    }
}
