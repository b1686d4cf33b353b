package io.trisync.events;

import io.trisync.failure.Failure;
import io.trisync.store.Ids;
import io.vertx.core.json.JsonObject;

/** The requests {@link EventsVerticle} answers, each with its wire form in one place. */
public final class EventMessages {

    private EventMessages() {}

    /** The newest events of the log, newest first: one tenant's ({@code tenantId}) or, null, all. */
    public record RecentEvents(String tenantId, int limit) {

        public static final int MAX_LIMIT = 1000;

        public RecentEvents {
            if (tenantId != null) {
                Ids.require("user_id", tenantId);
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new Failure.BadRequest("limit must be between 1 and " + MAX_LIMIT);
            }
        }

        public JsonObject toJson() {
            return new JsonObject().put("tenantId", tenantId).put("limit", limit);
        }

        public static RecentEvents fromJson(JsonObject json) {
            return new RecentEvents(json.getString("tenantId"), json.getInteger("limit", 50));
        }
    }
}
