package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * One object a repair moved aside, as the quarantine ledger ({@code sync_quarantine}) holds it: where
 * it came from and where it is held, its size, sha256, ETag, content type and user metadata as they
 * were, why and under which operation it was moved, and its {@code state} ({@link RepairStore#MOVING},
 * {@link RepairStore#QUARANTINED}, {@link RepairStore#RESTORED}, {@link RepairStore#PURGED}).
 * {@code restoredBy} and {@code purgedBy} are the actors of those transitions, or null.
 */
public record QuarantineEntry(
        String id,
        String tenantId,
        String fileId,
        String originalKey,
        String quarantineKey,
        long size,
        String sha256,
        String etag,
        String contentType,
        Map<String, String> metadata,
        String reason,
        String opId,
        Instant quarantinedAt,
        String state,
        Actor restoredBy,
        Actor purgedBy) {

    public static final String ID = "_id";
    public static final String TENANT_ID = "tenantId";
    public static final String FILE_ID = "fileId";
    public static final String ORIGINAL_KEY = "originalKey";
    public static final String QUARANTINE_KEY = "quarantineKey";
    public static final String SIZE = "size";
    public static final String SHA256 = "sha256";
    public static final String ETAG = "etag";
    public static final String CONTENT_TYPE = "contentType";
    public static final String METADATA = "metadata";
    public static final String REASON = "reason";
    public static final String OP_ID = "opId";
    public static final String QUARANTINED_AT = "quarantinedAt";
    public static final String STATE = "state";
    public static final String RESTORED_AT = "restoredAt";
    public static final String RESTORED_BY = "restoredBy";
    public static final String PURGED_AT = "purgedAt";
    public static final String PURGED_BY = "purgedBy";

    public QuarantineEntry {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    public QuarantineEntry withState(String to) {
        return with(to, restoredBy);
    }

    /** The entry once {@code actor} restored it. */
    public QuarantineEntry restoredBy(Actor actor) {
        return with(RepairStore.RESTORED, actor);
    }

    private QuarantineEntry with(String to, Actor restorer) {
        return new QuarantineEntry(
                id,
                tenantId,
                fileId,
                originalKey,
                quarantineKey,
                size,
                sha256,
                etag,
                contentType,
                metadata,
                reason,
                opId,
                quarantinedAt,
                to,
                restorer,
                purgedBy);
    }

    /** The fields a move (again) of the same bytes sets: all but the id and the state. */
    public JsonObject moveFields() {
        JsonObject fields = toDocument();
        fields.remove(ID);
        fields.remove(STATE);
        return fields;
    }

    /** The fields a restore sets besides the state. */
    public static JsonObject restoreFields(Actor actor, Instant at) {
        return new JsonObject().put(RESTORED_AT, Dates.toBson(at)).put(RESTORED_BY, actor.toJson());
    }

    /** The fields a purge sets besides the state. */
    public static JsonObject purgeFields(Actor actor, Instant at) {
        return new JsonObject().put(PURGED_AT, Dates.toBson(at)).put(PURGED_BY, actor.toJson());
    }

    public JsonObject toDocument() {
        JsonObject doc = new JsonObject()
                .put(ID, id)
                .put(TENANT_ID, tenantId)
                .put(FILE_ID, fileId)
                .put(ORIGINAL_KEY, originalKey)
                .put(QUARANTINE_KEY, quarantineKey)
                .put(SIZE, size)
                .put(SHA256, sha256)
                .put(ETAG, etag)
                .put(CONTENT_TYPE, contentType)
                .put(METADATA, new JsonObject(new HashMap<>(metadata)))
                .put(REASON, reason)
                .put(OP_ID, opId)
                .put(QUARANTINED_AT, Dates.toBson(quarantinedAt))
                .put(STATE, state);
        if (restoredBy != null) {
            doc.put(RESTORED_BY, restoredBy.toJson());
        }
        if (purgedBy != null) {
            doc.put(PURGED_BY, purgedBy.toJson());
        }
        return doc;
    }

    public static QuarantineEntry fromDocument(JsonObject doc) {
        Map<String, String> metadata = new HashMap<>();
        doc.getJsonObject(METADATA, new JsonObject())
                .forEach(e -> metadata.put(e.getKey(), String.valueOf(e.getValue())));
        return new QuarantineEntry(
                doc.getString(ID),
                doc.getString(TENANT_ID),
                doc.getString(FILE_ID),
                doc.getString(ORIGINAL_KEY),
                doc.getString(QUARANTINE_KEY),
                doc.getLong(SIZE, -1L),
                doc.getString(SHA256),
                doc.getString(ETAG),
                doc.getString(CONTENT_TYPE),
                metadata,
                doc.getString(REASON),
                doc.getString(OP_ID),
                Dates.fromBson(doc.getValue(QUARANTINED_AT)),
                doc.getString(STATE),
                doc.getJsonObject(RESTORED_BY) == null ? null : Actor.fromJson(doc.getJsonObject(RESTORED_BY)),
                doc.getJsonObject(PURGED_BY) == null ? null : Actor.fromJson(doc.getJsonObject(PURGED_BY)));
    }

    /** The entry as the API shows it. */
    public JsonObject toPublicJson() {
        return new JsonObject()
                .put("id", id)
                .put("user_id", tenantId)
                .put("file_id", fileId)
                .put("original_key", originalKey)
                .put("quarantine_key", quarantineKey)
                .put("size", size)
                .put("sha256", sha256)
                .put("reason", reason)
                .put("operation_id", opId)
                .put("quarantined_at", String.valueOf(quarantinedAt))
                .put("state", state)
                .put("restored_by", restoredBy == null ? null : restoredBy.toJson())
                .put("purged_by", purgedBy == null ? null : purgedBy.toJson());
    }
}
