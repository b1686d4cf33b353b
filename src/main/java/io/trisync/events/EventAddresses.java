package io.trisync.events;

/**
 * Addresses of browser-visible events. Only events live under {@code trisync.events.}: the bridge
 * lets browsers subscribe there by pattern, so no request address may ever be placed below it.
 */
public final class EventAddresses {

    /** Published by every capability (via {@link EventPublisher}); consumed by browsers of that tenant. */
    public static final String TENANT_PREFIX = "trisync.events.";

    /** Published by every capability (via {@link EventPublisher}); consumed by admin browsers. */
    public static final String ALL = "trisync.events.all";

    /**
     * Sent by the HTTP API: {@code {tenantId?, limit}}; replies {@code {"events": [...]}}, the newest
     * first. A request address, so it lies outside {@link #TENANT_PREFIX}.
     */
    public static final String RECENT = "trisync.eventlog.recent";

    /**
     * Sent by browsers over the bridge (which sets {@code tenantId} from the socket's token): {@code
     * {tenantId, afterSeq, limit?}}; replies with the tenant's events after {@code afterSeq}, in order
     * ({@code {"events": [...], "more": bool}}), or {@code {"reload": true, "oldest_seq": n}} when the
     * event log no longer reaches back that far.
     */
    public static final String REPLAY = "trisync.bridge.replay";

    private EventAddresses() {}

    /** {@code trisync.events.{tenantId}}: one tenant's events. */
    public static String tenant(String tenantId) {
        return TENANT_PREFIX + tenantId;
    }
}
