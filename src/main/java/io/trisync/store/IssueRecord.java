package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * One open inconsistency as a scan recorded it (MongoDB {@code sync_issues}): of which file, of
 * which type (an {@code IssueType} name), with the engine's {@code details}, first seen at {@code
 * firstSeen} by scan {@code opId}. Its field names live here alone.
 */
public record IssueRecord(
        String tenantId,
        int partition,
        String fileId,
        String fileName,
        String type,
        JsonObject details,
        String firstSeen,
        String opId) {

    /** The document's {@code _id}: one issue per (tenant, file, type). */
    public String id() {
        return IssueStore.id(tenantId, fileId, type);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put("_id", id())
                .put("tenantId", tenantId)
                .put("partition", partition)
                .put("fileId", fileId)
                .put("fileName", fileName)
                .put("type", type)
                .put("details", details)
                .put("firstSeen", firstSeen)
                .put("opId", opId);
    }

    public static IssueRecord fromDocument(JsonObject doc) {
        return new IssueRecord(
                doc.getString("tenantId"),
                doc.getInteger("partition", 0),
                doc.getString("fileId"),
                doc.getString("fileName"),
                doc.getString("type"),
                doc.getJsonObject("details", new JsonObject()),
                doc.getString("firstSeen"),
                doc.getString("opId"));
    }
}
