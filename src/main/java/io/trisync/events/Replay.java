package io.trisync.events;

import io.trisync.failure.Failure;
import io.trisync.store.EventStore;
import io.trisync.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What a reconnecting browser missed: the tenant's events after the last {@code seq} it saw, in
 * order, from the event log; or, when the log no longer reaches back that far, an explicit {@code
 * reload} so the client reloads its state instead of silently missing events.
 */
final class Replay {

    static final int MAX_PAGE = 1000;

    private final EventStore events;

    Replay(EventStore events) {
        this.events = events;
    }

    Future<JsonObject> since(JsonObject body) {
        String tenant = Ids.require("tenantId", body.getString("tenantId"));
        Long after = body.getLong("afterSeq");
        if (after == null || after < 0) {
            throw new Failure.BadRequest("afterSeq must be 0 or more");
        }
        Integer requested = body.getInteger("limit");
        int limit = requested == null ? MAX_PAGE : Math.max(1, Math.min(MAX_PAGE, requested));
        return events.oldestSeq(tenant).compose(oldest -> {
            if (oldest != null && oldest > after + 1) {
                return Future.succeededFuture(new JsonObject()
                        .put("reload", true)
                        .put("oldest_seq", oldest)
                        .put("message", "events after " + after + " are no longer in the log; reload the state"));
            }
            return events.since(tenant, after, limit).map(list -> new JsonObject()
                    .put("reload", false)
                    .put("events", new JsonArray(list))
                    .put("more", list.size() == limit));
        });
    }
}
