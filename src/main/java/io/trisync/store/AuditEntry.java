package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One action a repair took, as the audit trail ({@code sync_repair_actions}) holds it: the planned
 * action as the API describes it ({@code action}, {@code issues}, {@code user_id}, {@code file_id},
 * {@code file_name}, {@code store}, {@code reversible}, {@code description}, {@code undo}), the
 * operation it ran under, what came of it ({@code status}, {@code reason}), the file's state before
 * and after, and when.
 */
public record AuditEntry(
        String id,
        String opId,
        JsonObject action,
        String status,
        String reason,
        JsonObject before,
        JsonObject after,
        Instant at) {

    public static final String ID = "_id";
    public static final String OP_ID = "opId";
    public static final String STATUS = "status";
    public static final String REASON = "reason";
    public static final String BEFORE = "before";
    public static final String AFTER = "after";
    public static final String AT = "at";
    /** Fields of the planned action that the trail is read by. */
    public static final String ACTION = "action";

    public static final String FILE_ID = "file_id";
    public static final String USER_ID = "user_id";

    public AuditEntry {
        action = action == null ? new JsonObject() : action.copy();
    }

    /** The action's name ({@code REEMBED}, {@code QUARANTINE_BLOB}, …). */
    public String actionName() {
        return action.getString(ACTION);
    }

    public JsonObject toDocument() {
        return action.copy()
                .put(ID, id)
                .put(OP_ID, opId)
                .put(STATUS, status)
                .put(REASON, reason)
                .put(BEFORE, before)
                .put(AFTER, after)
                .put(AT, Dates.toBson(at));
    }

    public static AuditEntry fromDocument(JsonObject doc) {
        JsonObject action = doc.copy();
        for (String field : new String[] {ID, OP_ID, STATUS, REASON, BEFORE, AFTER, AT}) {
            action.remove(field);
        }
        return new AuditEntry(
                doc.getString(ID),
                doc.getString(OP_ID),
                action,
                doc.getString(STATUS),
                doc.getString(REASON),
                doc.getJsonObject(BEFORE),
                doc.getJsonObject(AFTER),
                Dates.fromBson(doc.getValue(AT)));
    }

    /** The entry as a repair's result lists it: the action's fields, what came of it, when. */
    public JsonObject toPublicJson() {
        return action.copy()
                .put(STATUS, status)
                .put(REASON, reason)
                .put(BEFORE, before)
                .put(AFTER, after)
                .put(AT, String.valueOf(at));
    }
}
