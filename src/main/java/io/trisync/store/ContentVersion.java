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

    /** The document's field names. */
    public static final String VERSION = "version";

    public static final String SHA256 = "sha256";
    public static final String SIZE = "size";
    public static final String CONTENT_TYPE = "contentType";
    public static final String AT = "at";
    public static final String BY = "by";
    public static final String RETAINED = "retained";
    public static final String OP_ID = "opId";

    /** This version once a newer one replaced it: its bytes retained, or (false) removed. */
    public ContentVersion superseded(boolean keep) {
        return new ContentVersion(version, sha256, size, contentType, at, by, keep, opId);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put(VERSION, version)
                .put(SHA256, sha256)
                .put(SIZE, size)
                .put(CONTENT_TYPE, contentType)
                .put(AT, Dates.toBson(at))
                .put(BY, by)
                .put(RETAINED, retained)
                .put(OP_ID, opId);
    }

    public static ContentVersion fromDocument(JsonObject d) {
        return new ContentVersion(
                d.getLong(VERSION, 1L),
                d.getString(SHA256),
                d.getLong(SIZE, 0L),
                d.getString(CONTENT_TYPE),
                Dates.fromBson(d.getValue(AT)),
                d.getString(BY),
                d.getBoolean(RETAINED, false),
                d.getString(OP_ID));
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
