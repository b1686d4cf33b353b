package io.trisync.http;

import io.trisync.store.FileRecord;
import io.vertx.core.json.JsonObject;

/**
 * The public (snake_case) view of a file record, which the ingest verticle sends as its stored
 * document ({@link FileRecord#toDocument}). {@code embedding_error} is present only when the file's
 * text extraction failed, with the reason.
 */
final class FileJson {

    private FileJson() {}

    static JsonObject publicView(JsonObject doc) {
        return publicView(FileRecord.fromDocument(doc));
    }

    /**
     * An upload accepted and still completing when its request's time ran out ({@code
     * Receiver.accepted}): 202 with its id, to be fetched later ({@code GET /api/files/{id}} shows a
     * new file once it commits, 404 until then, and a new version once it commits; the operation
     * undoes it if it cannot).
     */
    static JsonObject completingView(JsonObject doc) {
        return new JsonObject()
                .put("id", doc.getString("fileId"))
                .put("user_id", doc.getString("tenantId"))
                .put("name", doc.getString("name"))
                .put("size", doc.getLong("size"))
                .put("sha256", doc.getString("sha256"))
                .put("status", "completing")
                .put("operation_id", doc.getString("completing"))
                .put(
                        "message",
                        doc.getBoolean("replacing", false)
                                ? "the new version is still being stored and embedded; GET /api/files/"
                                        + doc.getString("fileId")
                                        + " shows the previous version until it commits"
                                : "the file is still being stored and embedded; GET /api/files/"
                                        + doc.getString("fileId") + " answers 404 until it commits");
    }

    static JsonObject publicView(FileRecord f) {
        FileRecord.Embedding embedding = f.embedding();
        JsonObject out = new JsonObject()
                .put("id", f.id())
                .put("user_id", f.tenantId())
                .put("name", f.name())
                .put("content_type", f.contentType())
                .put("size", f.size())
                .put("sha256", f.sha256())
                .put("status", f.status().wire())
                .put("version", f.version())
                .put("chunks", embedding == null ? 0 : embedding.chunks())
                .put("embedding_model", embedding == null ? null : embedding.model())
                .put("indexing", embedding == null ? "indexed" : embedding.state())
                .put("created_at", f.createdAt() == null ? null : f.createdAt().toString())
                .put("updated_at", f.updatedAt() == null ? null : f.updatedAt().toString());
        if (embedding != null && embedding.failure() != null) {
            out.put("embedding_error", embedding.failure());
        }
        if (f.sync() != null) {
            out.put("sync", f.sync().toDocument());
        }
        out.put("labels", f.labels() == null ? new JsonObject() : f.labels());
        return out;
    }
}
