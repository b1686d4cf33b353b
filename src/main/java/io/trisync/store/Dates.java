package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** Instants as BSON dates ({@code {"$date": ISO-8601}}) in vertx-mongo-client JSON, and back. */
public final class Dates {

    private Dates() {}

    public static JsonObject toBson(Instant at) {
        return at == null ? null : new JsonObject().put("$date", at.toString());
    }

    public static Instant fromBson(Object value) {
        if (value instanceof JsonObject json && json.getValue("$date") != null) {
            Object date = json.getValue("$date");
            return date instanceof Number n ? Instant.ofEpochMilli(n.longValue()) : Instant.parse(date.toString());
        }
        return value == null ? null : Instant.parse(value.toString());
    }
}
