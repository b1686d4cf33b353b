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
