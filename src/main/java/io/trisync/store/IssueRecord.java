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

    /** The document's field names ({@code _id}: see {@link #id()}). */
    public static final String ID = "_id";

    public static final String TENANT_ID = "tenantId";
    public static final String PARTITION = "partition";
    public static final String FILE_ID = "fileId";
    public static final String FILE_NAME = "fileName";
    public static final String TYPE = "type";
    public static final String DETAILS = "details";
    public static final String FIRST_SEEN = "firstSeen";
    public static final String OP_ID = "opId";

    /** The document's {@code _id}: one issue per (tenant, file, type). */
    public String id() {
        return IssueStore.id(tenantId, fileId, type);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put(ID, id())
                .put(TENANT_ID, tenantId)
                .put(PARTITION, partition)
                .put(FILE_ID, fileId)
                .put(FILE_NAME, fileName)
                .put(TYPE, type)
                .put(DETAILS, details)
                .put(FIRST_SEEN, firstSeen)
                .put(OP_ID, opId);
    }

    public static IssueRecord fromDocument(JsonObject doc) {
        return new IssueRecord(
                doc.getString(TENANT_ID),
                doc.getInteger(PARTITION, 0),
                doc.getString(FILE_ID),
                doc.getString(FILE_NAME),
                doc.getString(TYPE),
                doc.getJsonObject(DETAILS, new JsonObject()),
                doc.getString(FIRST_SEEN),
                doc.getString(OP_ID));
    }
}
