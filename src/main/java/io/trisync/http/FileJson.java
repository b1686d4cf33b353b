package io.trisync.http;

import io.vertx.core.json.JsonObject;

/**
 * The public (snake_case) view of a file record as the ingest verticle sends it (camelCase).
 * {@code embedding_error} is present only when the file's text extraction failed, with the reason.
 */
final class FileJson {

    private FileJson() {}

    static JsonObject publicView(JsonObject doc) {
        JsonObject embedding = doc.getJsonObject("embedding", new JsonObject());
        JsonObject out = new JsonObject()
                .put("id", doc.getString("_id"))
                .put("user_id", doc.getString("tenantId"))
                .put("name", doc.getString("name"))
                .put("content_type", doc.getString("contentType"))
                .put("size", doc.getLong("size"))
                .put("sha256", doc.getString("sha256"))
                .put("status", doc.getString("status"))
                .put("version", doc.getLong("version"))
                .put("chunks", embedding.getInteger("chunks", 0))
                .put("embedding_model", embedding.getString("model"))
                .put("created_at", date(doc.getValue("createdAt")))
                .put("updated_at", date(doc.getValue("updatedAt")));
        if (embedding.getString("failure") != null) {
            out.put("embedding_error", embedding.getString("failure"));
        }
        if (doc.getJsonObject("sync") != null) {
            out.put("sync", doc.getJsonObject("sync"));
        }
        return out;
    }

    private static String date(Object value) {
        if (value instanceof JsonObject json) {
            return String.valueOf(json.getValue("$date"));
        }
        return value == null ? null : value.toString();
    }
}
