package io.trisync.events;

import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.List;

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

    /** The answer to {@link RecentEvents}: {@code {events: [...]}}, newest first. */
    public record EventList(List<Event> events) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put(
                            "events",
                            new JsonArray(events.stream().map(Event::toJson).toList()));
        }
    }

    /**
     * What a reconnecting browser asks over the bridge ({@link EventAddresses#REPLAY}): the tenant's
     * events after {@code afterSeq}, at most {@code limit} of them (a page of {@link #MAX_PAGE} when
     * absent or out of range). The bridge sets {@code tenantId} to the caller's own tenant. With
     * {@code head: true} it asks only where the log stands now (its newest {@code seq}), which a page
     * learns when it first opens so that a reconnect before any event replays from there, not from
     * the start of the log.
     */
    public record ReplayRequest(String tenantId, long afterSeq, int limit, boolean head) {

        public static final String TENANT_ID = "tenantId";
        public static final String AFTER_SEQ = "afterSeq";
        public static final String LIMIT = "limit";
        public static final String HEAD = "head";
        public static final int MAX_PAGE = 1000;

        public ReplayRequest {
            Ids.require(TENANT_ID, tenantId);
            if (afterSeq < 0) {
                throw new Failure.BadRequest(AFTER_SEQ + " must be 0 or more");
            }
            limit = Math.max(1, Math.min(MAX_PAGE, limit));
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put(AFTER_SEQ, afterSeq)
                    .put(LIMIT, limit)
                    .put(HEAD, head);
        }

        public static ReplayRequest fromJson(JsonObject json) {
            Object head = json.getValue(HEAD);
            if (head != null && !(head instanceof Boolean)) {
                throw new Failure.BadRequest(HEAD + " must be true or false");
            }
            if (Boolean.TRUE.equals(head)) {
                return new ReplayRequest(json.getString(TENANT_ID), 0, 1, true);
            }
            long after = whole(json.getValue(AFTER_SEQ), AFTER_SEQ);
            Object limit = json.getValue(LIMIT);
            return new ReplayRequest(
                    json.getString(TENANT_ID),
                    after,
                    limit == null ? MAX_PAGE : (int) Math.max(0, Math.min(MAX_PAGE, whole(limit, LIMIT))),
                    false);
        }

        /**
         * {@code value} as the whole number {@code field} must be: a JSON integer. {@code 1.5} was read
         * as 1 (a page replayed from the wrong event); a fraction, a number beyond a long or another
         * type is refused naming the field.
         */
        private static long whole(Object value, String field) {
            if (value instanceof Integer || value instanceof Long) {
                return ((Number) value).longValue();
            }
            if (value instanceof BigInteger) {
                throw new Failure.BadRequest(field + " is too large (at most " + Long.MAX_VALUE + ")");
            }
            if (value == null) {
                throw new Failure.BadRequest(field + " is required: a whole number, 0 or more");
            }
            throw new Failure.BadRequest(field + " must be a whole number, not "
                    + (value instanceof Number
                            ? value
                            : value instanceof String
                                    ? "a string"
                                    : value instanceof Boolean ? value : "an object or list"));
        }
    }

    /**
     * The answer to a {@link ReplayRequest}: the events ({@code reload: false}, {@code more} when a
     * full page came back), or, when the log no longer reaches back that far, {@code reload: true}
     * with the oldest {@code seq} it holds so the client reloads its state instead. A head request is
     * answered with no events and {@code head_seq}, the last {@code seq} given to the tenant's events
     * (0 when none was; retention may have removed that event from the log, the number stays).
     */
    public record ReplayPage(
            boolean reload, List<Event> events, boolean more, long oldestSeq, long afterSeq, Long headSeq) {

        public static ReplayPage of(List<Event> events, int limit) {
            return new ReplayPage(false, events, events.size() == limit, 0, 0, null);
        }

        public static ReplayPage reload(long oldestSeq, long afterSeq) {
            return new ReplayPage(true, List.of(), false, oldestSeq, afterSeq, null);
        }

        public static ReplayPage head(long headSeq) {
            return new ReplayPage(false, List.of(), false, 0, 0, headSeq);
        }

        public JsonObject toJson() {
            if (reload) {
                return new JsonObject()
                        .put("reload", true)
                        .put("oldest_seq", oldestSeq)
                        .put("message", "events after " + afterSeq + " are no longer in the log; reload the state");
            }
            JsonObject page = new JsonObject()
                    .put("reload", false)
                    .put(
                            "events",
                            new JsonArray(events.stream().map(Event::toJson).toList()))
                    .put("more", more);
            return headSeq == null ? page : page.put("head_seq", headSeq);
        }
    }
}
