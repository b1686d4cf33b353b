package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * Who asked for a change, as recorded on the operation or audit entry it made: the token's subject
 * and tenant, whether it was an admin, and the client's address ({@code null} for trisync's own
 * work: periodic scans, auto-repair, recovery). On the wire and in MongoDB: {@code {subject,
 * tenant?, admin, address?}}.
 */
public record Actor(String subject, String tenant, boolean admin, String address) {

    /** trisync itself: periodic scans and the repairs they start, recovery, sweeps. */
    public static final Actor SYSTEM = new Actor("trisync", null, true, null);

    public JsonObject toJson() {
        JsonObject json = new JsonObject().put("subject", subject).put("admin", admin);
        if (tenant != null) {
            json.put("tenant", tenant);
        }
        if (address != null) {
            json.put("address", address);
        }
        return json;
    }

    /** The actor of {@code json}; {@link #SYSTEM} when absent (records written before actors were kept). */
    public static Actor fromJson(JsonObject json) {
        return json == null
                ? SYSTEM
                : new Actor(
                        json.getString("subject", SYSTEM.subject()),
                        json.getString("tenant"),
                        json.getBoolean("admin", false),
                        json.getString("address"));
    }
}
