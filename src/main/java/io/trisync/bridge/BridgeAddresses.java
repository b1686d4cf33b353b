package io.trisync.bridge;

import io.trisync.events.EventAddresses;
import io.trisync.events.EventMessages.ReplayRequest;
import io.trisync.ops.OpsMessages.TenantRef;
import java.util.Set;

/**
 * The only event-bus addresses a browser may send to over the SockJS bridge. The bridge sets {@code tenantId} in their bodies from the socket's token.
 */
public final class BridgeAddresses {

    /** What a reconnecting browser missed ({@link EventAddresses#REPLAY}, answered by the events verticle). */
    public static final String REPLAY = EventAddresses.REPLAY;

    /** {@code {tenantId}}: the tenant's sync status, as {@code GET /api/sync/status/{user_id}}. */
    public static final String STATUS = "trisync.bridge.status";

    /**
     * The field of every inbound body that the bridge sets to the socket's own tenant: the {@code
     * tenantId} of an {@link ReplayRequest} and of the {@link TenantRef} a status request is read as.
     */
    public static final String TENANT_ID = ReplayRequest.TENANT_ID;

    /** Addresses a browser may send to. */
    public static final Set<String> INBOUND = Set.of(REPLAY, STATUS);

    private BridgeAddresses() {}
}
