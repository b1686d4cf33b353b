package io.trisync.events;

import io.trisync.config.TrisyncConfig;
import io.trisync.metrics.Metrics;
import io.trisync.store.Event;
import io.trisync.store.EventStore;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Appends an event to the event log (which numbers it per tenant) and then publishes it on the
 * tenant's address and the admin address. Logged first, published second: a browser that missed
 * the publish finds the event in the log when it replays.
 */
public final class EventPublisher {

    private final EventBus bus;
    private final EventStore store;
    private final Metrics metrics;

    public EventPublisher(EventBus bus, EventStore store) {
        this(bus, store, Metrics.none());
    }

    public EventPublisher(EventBus bus, EventStore store, Metrics metrics) {
        this.bus = bus;
        this.store = store;
        this.metrics = metrics;
    }

    /** The publisher of a node's verticles: its event log, its bus, its meters. */
    public static EventPublisher of(Vertx vertx, TrisyncConfig config, Stores stores) {
        return new EventPublisher(vertx.eventBus(), stores.events(), Metrics.of(config));
    }

    /** One event to log and publish: {@code fileId} and {@code opId} may be null. */
    public record Draft(String type, String fileId, String opId, JsonObject data) {}

    /** Logs and publishes one event. Completes with the event as published. */
    public Future<Event> publish(String tenantId, String type, String fileId, String opId, JsonObject data) {
        return publishAll(tenantId, List.of(new Draft(type, fileId, opId, data)))
                .map(all -> all.get(0));
    }

    /** Logs several events of one tenant in one write (consecutive seqs), then publishes each in order. */
    public Future<List<Event>> publishAll(String tenantId, List<Draft> drafts) {
        String at = Instant.now().toString();
        List<Event> events = drafts.stream()
                .map(d -> Event.draft(d.type(), tenantId, d.fileId(), d.opId(), at, d.data()))
                .toList();
        return store.appendAll(tenantId, events)
                .onSuccess(stored -> stored.forEach(event -> {
                    metrics.eventPublished(event.type());
                    JsonObject wire = event.toJson();
                    bus.publish(EventAddresses.tenant(tenantId), wire);
                    bus.publish(EventAddresses.ALL, wire);
                }));
    }
}
