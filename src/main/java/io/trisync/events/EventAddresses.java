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

    private EventAddresses() {}

    /** {@code trisync.events.{tenantId}}: one tenant's events. */
    public static String tenant(String tenantId) {
        return TENANT_PREFIX + tenantId;
    }
}
