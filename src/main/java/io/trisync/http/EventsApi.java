package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.events.EventAddresses;
import io.trisync.events.EventMessages.RecentEvents;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /api/sync/events/recent?limit=N[&user_id=]}: the newest events of the event log, newest first. */
public final class EventsApi {

    private final BusClient bus;

    public EventsApi(Vertx vertx, long requestTimeoutMs) {
        this.bus = new BusClient(ClusterBus.of(vertx), requestTimeoutMs);
    }

    public void mount(Router router) {
        router.get("/api/sync/events/recent").handler(this::recent);
    }

    private void recent(RoutingContext ctx) {
        RecentEvents request = new RecentEvents(
                Access.caller(ctx).tenantFor(ctx.queryParams().get("user_id")), FilesApi.intParam(ctx, "limit", 50));
        bus.read(EventAddresses.RECENT, request.toJson())
                .onSuccess(events -> FilesApi.json(ctx, 200, events))
                .onFailure(ctx::fail);
    }
}
