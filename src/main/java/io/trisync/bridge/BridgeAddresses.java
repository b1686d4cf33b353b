package io.trisync.bridge;

import io.trisync.events.EventAddresses;
import java.util.Set;

/**
 * The only event-bus addresses a browser may send to over the SockJS bridge. The bridge sets {@code tenantId} in their bodies from the socket's token.
 */
public final class BridgeAddresses {

    /** What a reconnecting browser missed ({@link EventAddresses#REPLAY}, answered by the events verticle). */
    public static final String REPLAY = EventAddresses.REPLAY;

    /** {@code {tenantId}}: the tenant's sync status, as {@code GET /api/sync/status/{user_id}}. */
    public static final String STATUS = "trisync.bridge.status";

    /** Addresses a browser may send to. */
    public static final Set<String> INBOUND = Set.of(REPLAY, STATUS);

    private BridgeAddresses() {}
}
