package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * One entry of the event log ({@code events}), in the form it is published on the event bus and
 * replayed to browsers: {@code {seq, type, tenantId, fileId?, opId?, at, data}}. {@code seq} numbers
 * a tenant's events from 1 and is 0 in a draft the log has not numbered yet; {@code at} is the
 * ISO-8601 instant of publishing (its text orders like the time it names, which retention relies on);
 * {@code data} is the event type's own payload.
 */
public record Event(long seq, String type, String tenantId, String fileId, String opId, String at, JsonObject data) {

    public static final String SEQ = "seq";
    public static final String TYPE = "type";
    public static final String TENANT_ID = "tenantId";
    public static final String FILE_ID = "fileId";
    public static final String OP_ID = "opId";
    public static final String AT = "at";
    public static final String DATA = "data";

    public Event {
        data = data == null ? new JsonObject() : data;
    }

    /** An event the log has yet to number. */
    public static Event draft(String type, String tenantId, String fileId, String opId, String at, JsonObject data) {
        return new Event(0, type, tenantId, fileId, opId, at, data);
    }

    /** This event as the log stores it: the {@code seq}-th event of {@code tenantId}. */
    public Event numbered(String tenantId, long seq) {
        return new Event(seq, type, tenantId, fileId, opId, at, data);
    }

    /** The wire form, which is also the stored document (with the log's own {@code _id} added). */
    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put(SEQ, seq)
                .put(TYPE, type)
                .put(TENANT_ID, tenantId)
                .put(AT, at)
                .put(DATA, data);
        if (fileId != null) {
            json.put(FILE_ID, fileId);
        }
        if (opId != null) {
            json.put(OP_ID, opId);
        }
        return json;
    }

    public static Event fromJson(JsonObject json) {
        return new Event(
                json.getLong(SEQ, 0L),
                json.getString(TYPE),
                json.getString(TENANT_ID),
                json.getString(FILE_ID),
                json.getString(OP_ID),
                json.getString(AT),
                json.getJsonObject(DATA));
    }
}
