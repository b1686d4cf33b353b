package io.trisync.events;

import io.trisync.concurrent.Later;
import io.trisync.config.TrisyncConfig;
import io.trisync.metrics.Metrics;
import io.trisync.store.Event;
import io.trisync.store.EventStore;
import io.trisync.store.Stores;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends an event to the event log (which numbers it per tenant) and then publishes it on the
 * tenant's address and the admin address. Logged first, published second: a browser that missed
 * the publish finds the event in the log when it replays.
 *
 * <p>Appends of one tenant are grouped, as a database groups commits: while one append of the tenant
 * is in flight, the events of every other publish of that tenant wait, and go to the log together
 * in one append (one counter increment, one bulk insert) when it returns; with none in flight, the
 * append goes at the end of the publisher's event-loop turn, with the publishes made in that turn. So concurrent uploads share
 * the event log's writes instead of making two each, and a tenant's events keep the order they were
 * published in. A publish completes (on the context it was made on) once its events are logged; an
 * append that fails fails every publish it carried, and nothing of theirs is published.
 */
public final class EventPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);

    /** Most events in one append: a group larger than this waits for the next. */
    static final int MAX_GROUP = 500;

    private final EventBus bus;
    private final EventStore store;
    private final Metrics metrics;
    /** Per tenant with an append in flight or about to go: the publishes waiting for it. Guarded by {@code this}. */
    private final Map<String, List<Waiting>> waiting = new HashMap<>();

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

    /** One publish waiting for its append: its events (not yet numbered) and whom to tell. */
    private record Waiting(List<Event> events, Promise<List<Event>> done, Context context) {}

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
        Context context = Vertx.currentContext();
        Waiting publish = new Waiting(events, Promise.promise(), context);
        boolean first;
        synchronized (this) {
            first = !waiting.containsKey(tenantId);
            waiting.computeIfAbsent(tenantId, t -> new ArrayList<>()).add(publish);
        }
        if (first) {
            // At the end of this event-loop turn: the publishes of the tenant that one write released
            // together (a group commit acknowledged) join this one's append.
            if (!Later.inTurn(context, () -> append(tenantId, next(tenantId)))) {
                append(tenantId, next(tenantId));
            }
        }
        return publish.done().future();
    }

    /** Appends {@code group}'s events in one write, publishes them, tells each, then appends whatever waited. */
    private void append(String tenantId, List<Waiting> group) {
        List<Event> events = new ArrayList<>();
        group.forEach(w -> events.addAll(w.events()));
        Future<List<Event>> appended;
        try {
            appended = store.appendAll(tenantId, events);
        } catch (Throwable e) {
            appended = Future.failedFuture(e);
        }
        appended.onComplete(result -> {
            // Whatever fails here, the tenant's next group still goes: a stuck queue would hold every
            // later event of the tenant for good.
            try {
                AsyncResult<List<Event>> told =
                        result.succeeded() && result.result().size() != events.size()
                                ? Future.failedFuture(new IllegalStateException("the event log stored "
                                        + result.result().size() + " of " + events.size() + " events"))
                                : result;
                if (told.succeeded()) {
                    told.result().forEach(event -> {
                        try {
                            metrics.eventPublished(event.type());
                            JsonObject wire = event.toJson();
                            bus.publish(EventAddresses.tenant(tenantId), wire);
                            bus.publish(EventAddresses.ALL, wire);
                        } catch (RuntimeException e) {
                            LOG.warn(
                                    "Event {} of tenant {} logged but not published: {}",
                                    event.seq(),
                                    tenantId,
                                    e.toString());
                        }
                    });
                }
                int from = 0;
                for (Waiting w : group) {
                    int to = from + w.events().size();
                    tell(w, told, from, to);
                    from = to;
                }
            } finally {
                List<Waiting> next = next(tenantId);
                if (!next.isEmpty()) {
                    append(tenantId, next);
                }
            }
        });
    }

    /** Takes the next group of {@code tenantId}'s waiting publishes; none left ends its appends in flight. */
    private synchronized List<Waiting> next(String tenantId) {
        List<Waiting> queue = waiting.get(tenantId);
        if (queue.isEmpty()) {
            waiting.remove(tenantId);
            return List.of();
        }
        List<Waiting> group = new ArrayList<>();
        int events = 0;
        while (!queue.isEmpty()
                && (group.isEmpty() || events + queue.get(0).events().size() <= MAX_GROUP)) {
            Waiting w = queue.remove(0);
            group.add(w);
            events += w.events().size();
        }
        return group;
    }

    /**
     * Completes {@code w} with its events ({@code from} to {@code to} of the append) on its own
     * context, always as a task of its own: its listeners never run inside this publisher's loop.
     */
    private static void tell(Waiting w, AsyncResult<List<Event>> result, int from, int to) {
        Runnable complete = result.succeeded()
                ? () -> w.done().complete(List.copyOf(result.result().subList(from, to)))
                : () -> w.done().fail(result.cause());
        if (w.context() != null) {
            w.context().runOnContext(v -> complete.run());
            return;
        }
        try {
            complete.run();
        } catch (RuntimeException e) {
            LOG.warn("A listener of a publish of events failed: {}", e.toString());
        }
    }
}
