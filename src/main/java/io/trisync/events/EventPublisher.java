package io.trisync.events;

import io.trisync.store.EventStore;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * Appends an event to the event log (which numbers it per tenant) and then publishes it on the
 * tenant's address and the admin address. Logged first, published second: a browser that missed
 * the publish finds the event in the log when it replays.
 */
public final class EventPublisher {

    private final EventBus bus;
    private final EventStore store;

    public EventPublisher(EventBus bus, EventStore store) {
        this.bus = bus;
        this.store = store;
    }

    /**
     * Logs and publishes one event: {@code {seq, type, tenantId, fileId?, opId?, at, data}}.
     * Completes with the event as published.
     */
    public Future<JsonObject> publish(String tenantId, String type, String fileId, String opId, JsonObject data) {
        JsonObject event = new JsonObject()
                .put("type", type)
                .put("tenantId", tenantId)
                .put("at", Instant.now().toString())
                .put("data", data == null ? new JsonObject() : data);
        if (fileId != null) {
            event.put("fileId", fileId);
        }
        if (opId != null) {
            event.put("opId", opId);
        }
        return store.append(tenantId, event).onSuccess(stored -> {
            bus.publish(EventAddresses.tenant(tenantId), stored);
            bus.publish(EventAddresses.ALL, stored);
        });
    }
}
