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
import io.vertx.core.shareddata.Shareable;
import java.time.Instant;
import java.util.ArrayDeque;
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
 * <p>Appends of one tenant are grouped, as a database groups commits, in two stages. Numbering: while
 * one counter increment of the tenant is in flight, the publishes that come wait and are numbered
 * together by the next (one increment); with none in flight, it goes at the end of the publisher's
 * event-loop turn, with the publishes made in that turn. Logging: numbered publishes are inserted in
 * the order of their numbers, those ready at the head of the tenant's queue together in one bulk
 * insert, one insert in flight. So concurrent uploads share the event log's writes instead of making
 * two each, and a tenant's log never holds an event while an earlier-numbered one of this publisher is
 * still to come (a browser that replays after the last seq it saw misses nothing this publisher logs).
 *
 * <p>{@link #publishAll} logs its events as soon as they are numbered. {@link #reserve} numbers them
 * and waits to be told: {@link Reservation#log} or {@link Reservation#skip} (a gap in the numbers),
 * so that an upload numbers its events beside its commit and logs them once that succeeded. A
 * publish completes (on the context it was made on) once its events are logged; a write that fails
 * fails every publish it carried, and nothing of theirs is published.
 */
public final class EventPublisher implements Shareable {

    private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);

    /** Most events numbered or inserted in one write: a group larger than this waits for the next. */
    static final int MAX_GROUP = 500;

    /**
     * Longest a reservation holds the tenant's later events: then its numbers are given up (a gap),
     * and a late {@link Reservation#log} logs its events under new ones. A commit stuck that long
     * must not stop every other event of its tenant.
     */
    static final long HOLD_LIMIT_MS = 5_000;

    private final EventBus bus;
    private final EventStore store;
    private final Metrics metrics;
    private final long holdLimitMs;
    /** Per tenant with publishes in flight: its queues. Guarded by {@code this}. */
    private final Map<String, TenantLog> tenants = new HashMap<>();

    public EventPublisher(EventBus bus, EventStore store) {
        this(bus, store, Metrics.none());
    }

    public EventPublisher(EventBus bus, EventStore store, Metrics metrics) {
        this(bus, store, metrics, HOLD_LIMIT_MS);
    }

    EventPublisher(EventBus bus, EventStore store, Metrics metrics, long holdLimitMs) {
        this.bus = bus;
        this.store = store;
        this.metrics = metrics;
        this.holdLimitMs = holdLimitMs;
    }

    /**
     * The publisher of a node's verticles (its event log, its bus, its meters), one for all of them:
     * a tenant's events logged by the node then keep their number order across its verticles (and
     * share their writes).
     */
    public static EventPublisher of(Vertx vertx, TrisyncConfig config, Stores stores) {
        EventPublisher shared = vertx.sharedData()
                .<String, EventPublisher>getLocalMap("trisync.events.publisher")
                .computeIfAbsent(
                        "publisher", k -> new EventPublisher(vertx.eventBus(), stores.events(), Metrics.of(config)));
        // A Vert.x instance runs one node; should it hold another's stores, that one gets its own.
        return shared.store == stores.events()
                ? shared
                : new EventPublisher(vertx.eventBus(), stores.events(), Metrics.of(config));
    }

    /** One event to log and publish: {@code fileId} and {@code opId} may be null. */
    public record Draft(String type, String fileId, String opId, JsonObject data) {}

    /** Where a publish stands: numbered or not, and whether it is to be logged. */
    private enum State {
        UNNUMBERED,
        HELD,
        READY,
        SKIPPED
    }

    /** One publish: its events (numbered once its group's increment returns) and whom to tell. */
    private static final class Publish {
        /** Its events as drafted, not numbered. */
        final List<Event> drafts;

        List<Event> events;
        State state;
        /** Given up by the hold limit, not by its caller: a late log takes new numbers. */
        boolean expired;

        long holdTimer = -1;
        final Promise<Reservation> numbered = Promise.promise();
        final Promise<List<Event>> logged = Promise.promise();
        final Context context;

        Publish(List<Event> drafts, boolean ready, Context context) {
            this.drafts = drafts;
            this.events = drafts;
            this.state = ready ? State.READY : State.UNNUMBERED;
            this.context = context;
        }
    }

    /** A tenant's publishes: those waiting for numbers, and those numbered, in number order. */
    private static final class TenantLog {
        final List<Publish> unnumbered = new ArrayList<>();
        final ArrayDeque<Publish> numbered = new ArrayDeque<>();
        boolean numbering;
        boolean inserting;

        boolean idle() {
            return unnumbered.isEmpty() && numbered.isEmpty() && !numbering && !inserting;
        }
    }

    /**
     * Numbers taken for a publish, to be logged or given up once its caller knows whether its events
     * happened. Until then, the tenant's later-numbered events of this publisher wait.
     */
    public final class Reservation {
        private final String tenantId;
        private final Publish publish;

        private Reservation(String tenantId, Publish publish) {
            this.tenantId = tenantId;
            this.publish = publish;
        }

        /** The events as numbered. */
        public List<Event> events() {
            return publish.events;
        }

        /**
         * Logs and publishes the events; completes once they are logged (under new numbers when the
         * hold limit gave these up).
         */
        public Future<List<Event>> log() {
            if (!decide(tenantId, publish, State.READY)) {
                return enqueue(tenantId, publish.drafts, true).logged.future();
            }
            return publish.logged.future();
        }

        /** Gives the numbers up: they are a gap in the tenant's log. */
        public void skip() {
            decide(tenantId, publish, State.SKIPPED);
        }
    }

    /** Logs and publishes one event. Completes with the event as published. */
    public Future<Event> publish(String tenantId, String type, String fileId, String opId, JsonObject data) {
        return publishAll(tenantId, List.of(new Draft(type, fileId, opId, data)))
                .map(all -> all.get(0));
    }

    /** Logs several events of one tenant in one write (consecutive seqs), then publishes each in order. */
    public Future<List<Event>> publishAll(String tenantId, List<Draft> drafts) {
        return enqueue(tenantId, drafted(tenantId, drafts), true).logged.future();
    }

    /**
     * Numbers {@code drafts} (consecutive seqs, shared with the other publishes of the tenant being
     * numbered) without logging them: the caller then {@link Reservation#log}s or {@link
     * Reservation#skip}s them, and must do one or the other soon.
     */
    public Future<Reservation> reserve(String tenantId, List<Draft> drafts) {
        return enqueue(tenantId, drafted(tenantId, drafts), false).numbered.future();
    }

    private static List<Event> drafted(String tenantId, List<Draft> drafts) {
        String at = Instant.now().toString();
        return drafts.stream()
                .map(d -> Event.draft(d.type(), tenantId, d.fileId(), d.opId(), at, d.data()))
                .toList();
    }

    private Publish enqueue(String tenantId, List<Event> events, boolean ready) {
        Context context = Vertx.currentContext();
        Publish publish = new Publish(events, ready, context);
        boolean first;
        synchronized (this) {
            TenantLog log = tenants.computeIfAbsent(tenantId, t -> new TenantLog());
            log.unnumbered.add(publish);
            first = !log.numbering;
            log.numbering = true;
        }
        if (first) {
            // At the end of this event-loop turn: the publishes of the tenant that one write released
            // together (a group commit acknowledged) join this one's numbers.
            if (!Later.inTurn(context, () -> number(tenantId))) {
                number(tenantId);
            }
        }
        return publish;
    }

    /** Numbers the tenant's waiting publishes with one counter increment, then numbers whatever came meanwhile. */
    private void number(String tenantId) {
        List<Publish> group = new ArrayList<>();
        int count = 0;
        synchronized (this) {
            TenantLog log = tenants.get(tenantId);
            while (!log.unnumbered.isEmpty()
                    && (group.isEmpty() || count + log.unnumbered.get(0).events.size() <= MAX_GROUP)) {
                Publish p = log.unnumbered.remove(0);
                group.add(p);
                count += p.events.size();
            }
        }
        Future<Long> reserved;
        try {
            reserved = store.reserve(tenantId, count);
        } catch (Throwable e) {
            reserved = Future.failedFuture(e);
        }
        int n = count;
        reserved.onComplete(result -> {
            try {
                numbered(
                        tenantId,
                        group,
                        n,
                        result.succeeded() && result.result() == null
                                ? Future.failedFuture(new IllegalStateException("the event counter gave no number"))
                                : result);
            } finally {
                // Whatever failed here, the tenant's next publishes still go: a stuck queue would hold
                // every later event of the tenant for good.
                boolean again;
                synchronized (this) {
                    TenantLog log = tenants.get(tenantId);
                    again = !log.unnumbered.isEmpty();
                    log.numbering = again;
                }
                if (again) {
                    number(tenantId);
                }
                insertReady(tenantId);
            }
        });
    }

    /** Numbers {@code group} from the increment's {@code result} (or fails it), and tells the reservations. */
    private void numbered(String tenantId, List<Publish> group, int n, AsyncResult<Long> result) {
        synchronized (this) {
            TenantLog log = tenants.get(tenantId);
            if (result.succeeded()) {
                long seq = result.result() - n + 1;
                for (Publish p : group) {
                    List<Event> numbered = new ArrayList<>(p.events.size());
                    for (Event e : p.events) {
                        numbered.add(e.numbered(tenantId, seq++));
                    }
                    p.events = List.copyOf(numbered);
                    if (p.state == State.UNNUMBERED) {
                        p.state = State.HELD;
                    }
                    log.numbered.add(p);
                }
            }
        }
        for (Publish p : group) {
            if (result.failed()) {
                tell(p.context, () -> p.numbered.fail(result.cause()));
                tell(p.context, () -> p.logged.fail(result.cause()));
            } else if (p.state != State.READY) {
                Reservation reservation = new Reservation(tenantId, p);
                tell(p.context, () -> {
                    // On the reserving caller's context, so the timer is its (this callback's may be
                    // another verticle's, whose timers go when it is undeployed).
                    if (p.context != null) {
                        try {
                            p.holdTimer = p.context.owner().setTimer(holdLimitMs, id -> expire(tenantId, p));
                        } catch (RuntimeException closing) {
                            LOG.debug("No hold limit for a reservation of {}: {}", tenantId, closing.toString());
                        }
                    }
                    p.numbered.complete(reservation);
                });
            }
        }
    }

    /** The hold limit of a reservation not yet logged or skipped: its numbers are given up. */
    private void expire(String tenantId, Publish publish) {
        synchronized (this) {
            if (publish.state != State.HELD) {
                return;
            }
            publish.state = State.SKIPPED;
            publish.expired = true;
        }
        LOG.warn(
                "Event numbers {} of tenant {} held for {} ms without being logged; given up",
                publish.events.isEmpty() ? "(none)" : publish.events.get(0).seq(),
                tenantId,
                holdLimitMs);
        insertReady(tenantId);
    }

    /**
     * Logs or skips a held reservation; false when the hold limit gave it up first. Its insert goes at
     * the end of this event-loop turn, so the reservations one commit released together (a cohort's)
     * share it.
     */
    private boolean decide(String tenantId, Publish publish, State state) {
        synchronized (this) {
            if (publish.expired) {
                return false;
            }
            if (publish.state != State.HELD) {
                throw new IllegalStateException("the reservation was already " + publish.state);
            }
            publish.state = state;
        }
        if (publish.holdTimer >= 0) {
            publish.context.owner().cancelTimer(publish.holdTimer);
        }
        Context context = Vertx.currentContext();
        if (!Later.inTurn(context, () -> insertReady(tenantId))) {
            insertReady(tenantId);
        }
        return true;
    }

    /**
     * Inserts the publishes ready at the head of the tenant's numbered queue in one write (unless one
     * is in flight), dropping the skipped ones; then publishes and tells them, and goes on.
     */
    private void insertReady(String tenantId) {
        List<Publish> group = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        synchronized (this) {
            TenantLog log = tenants.get(tenantId);
            if (log == null || log.inserting) {
                return;
            }
            while (!log.numbered.isEmpty()) {
                Publish head = log.numbered.peekFirst();
                if (head.state == State.SKIPPED) {
                    log.numbered.removeFirst();
                } else if (head.state == State.READY
                        && (group.isEmpty() || events.size() + head.events.size() <= MAX_GROUP)) {
                    group.add(log.numbered.removeFirst());
                    events.addAll(head.events);
                } else {
                    break;
                }
            }
            if (group.isEmpty()) {
                if (log.idle()) {
                    tenants.remove(tenantId);
                }
                return;
            }
            log.inserting = true;
        }
        Future<Void> inserted;
        try {
            inserted = store.insert(tenantId, events);
        } catch (Throwable e) {
            inserted = Future.failedFuture(e);
        }
        inserted.onComplete(result -> {
            try {
                if (result.succeeded()) {
                    events.forEach(event -> {
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
                for (Publish p : group) {
                    tell(
                            p.context,
                            result.succeeded()
                                    ? () -> p.logged.complete(p.events)
                                    : () -> p.logged.fail(result.cause()));
                }
            } finally {
                synchronized (this) {
                    tenants.get(tenantId).inserting = false;
                }
                insertReady(tenantId);
            }
        });
    }

    /**
     * Runs {@code complete} on {@code context}, always as a task of its own: its listeners never run
     * inside this publisher's loop.
     */
    private static void tell(Context context, Runnable complete) {
        if (context != null) {
            try {
                context.runOnContext(v -> complete.run());
                return;
            } catch (RuntimeException closed) {
                // Its Vert.x instance is closing: told here instead, or it would wait for good.
            }
        }
        try {
            complete.run();
        } catch (RuntimeException e) {
            LOG.warn("A listener of a publish of events failed: {}", e.toString());
        }
    }
}
