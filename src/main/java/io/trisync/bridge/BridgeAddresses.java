package io.trisync.bridge;

import java.util.Set;

/**
 * Event-bus addresses owned by {@link BridgeVerticle}: the only ones a browser may send to over the
 * SockJS bridge. The bridge sets {@code tenantId} in their bodies from the socket's token.
 */
public final class BridgeAddresses {

    /**
     * {@code {tenantId, afterSeq, limit?}}: the tenant's events after {@code afterSeq}, in order
     * ({@code {"events": [...], "more": bool}}), or {@code {"reload": true, "oldest_seq": n}} when the
     * event log no longer reaches back that far.
     */
    public static final String REPLAY = "trisync.bridge.replay";

    /** {@code {tenantId}}: the tenant's sync status, as {@code GET /api/sync/status/{user_id}}. */
    public static final String STATUS = "trisync.bridge.status";

    /** Addresses a browser may send to. */
    public static final Set<String> INBOUND = Set.of(REPLAY, STATUS);

    private BridgeAddresses() {}
}
