package io.trisync.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One version of a file's content, as its record's history lists it: the record {@code version} at
 * which the content became current, its sha256, size and content type, when and by whom ({@code by},
 * a token subject; null when not known) it was written, and whether its bytes are still held. The
 * current version's bytes are the file's blob; a previous one's are at {@link StoreKeys#versionKey}
 * while {@code retained}. {@code opId}: the replacement that wrote it (null for an upload).
 */
public record ContentVersion(
        long version,
        String sha256,
        long size,
        String contentType,
        Instant at,
        String by,
        boolean retained,
        String opId) {

    /** This version once a newer one replaced it: its bytes retained, or (false) removed. */
    public ContentVersion superseded(boolean keep) {
        return new ContentVersion(version, sha256, size, contentType, at, by, keep, opId);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put("version", version)
                .put("sha256", sha256)
                .put("size", size)
                .put("contentType", contentType)
                .put("at", Dates.toBson(at))
                .put("by", by)
                .put("retained", retained)
                .put("opId", opId);
    }

    public static ContentVersion fromDocument(JsonObject d) {
        return new ContentVersion(
                d.getLong("version", 1L),
                d.getString("sha256"),
                d.getLong("size", 0L),
                d.getString("contentType"),
                Dates.fromBson(d.getValue("at")),
                d.getString("by"),
                d.getBoolean("retained", false),
                d.getString("opId"));
    }

    /** A history as stored: newest first. */
    public static JsonArray toDocuments(List<ContentVersion> versions) {
        JsonArray array = new JsonArray();
        versions.forEach(v -> array.add(v.toDocument()));
        return array;
    }

    /** The history stored in {@code array}; empty when absent. */
    public static List<ContentVersion> fromDocuments(JsonArray array) {
        List<ContentVersion> versions = new ArrayList<>();
        if (array != null) {
            for (int i = 0; i < array.size(); i++) {
                versions.add(fromDocument(array.getJsonObject(i)));
            }
        }
        return List.copyOf(versions);
    }
}
