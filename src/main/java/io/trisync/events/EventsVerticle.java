package io.trisync.events;

import io.trisync.bus.RequestVerticle;
import io.trisync.events.EventMessages.EventList;
import io.trisync.events.EventMessages.RecentEvents;
import io.trisync.events.EventMessages.ReplayPage;
import io.trisync.events.EventMessages.ReplayRequest;
import io.trisync.store.EventStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Serves the reads of the event log: the newest events ({@link EventAddresses#RECENT}, for the HTTP
 * API) and what a reconnecting browser missed ({@link EventAddresses#REPLAY}, sent over the bridge).
 * Publishing is {@link EventPublisher}'s, used by every capability.
 */
public final class EventsVerticle extends RequestVerticle {

    private final EventStore events;

    public EventsVerticle(EventStore events) {
        this.events = events;
    }

    @Override
    public Future<?> start() {
        Replay replay = new Replay(events);
        consume(EventAddresses.RECENT, body -> recent(RecentEvents.fromJson(body)));
        consume(EventAddresses.REPLAY, body -> replay.since(ReplayRequest.fromJson(body))
                .map(ReplayPage::toJson));
        return consumersReady();
    }

    private Future<JsonObject> recent(RecentEvents request) {
        return events.recent(request.tenantId(), request.limit()).map(list -> new EventList(list).toJson());
    }
}
