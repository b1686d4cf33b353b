package io.trisync.scan;

import io.trisync.ops.OpsAddresses;

/** Event-bus addresses owned by {@link ScanVerticle}; point-to-point requests. */
public final class ScanAddresses {

    /** Sent by the ops HTTP API ({@code POST /api/v1/sync}, kind scan); starts a tracked scan, replies with it. */
    public static final String START = OpsAddresses.start("scan");

    /** Sent by the HTTP API ({@code POST /api/sync/analyze}); scans and replies with the report. */
    public static final String ANALYZE = "trisync.scan.analyze";

    /** Sent by the HTTP API ({@code GET /api/sync/status/{user_id}}); replies with the tenant's summary and files. */
    public static final String TENANT_STATUS = "trisync.scan.tenant-status";

    private ScanAddresses() {}
}
