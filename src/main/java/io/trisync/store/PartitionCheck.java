package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * That a scan checked every file of one tenant's partition, when and in which operation: one
 * document per partition ({@code partition_checks}). A scan writes a file's own verdict only when
 * it changed; a file whose verdict held was last checked at its partition's check, the later of
 * the two.
 */
public record PartitionCheck(String tenantId, int partition, String checkedAt, String opId) {

    /** The stored document's field names ({@code _id} is {@code tenant#partition}). */
    public static final String ID = "_id";

    public static final String TENANT_ID = "tenantId";
    public static final String PARTITION = "partition";
    public static final String CHECKED_AT = "checkedAt";
    public static final String OP_ID = "opId";

    public JsonObject toDocument() {
        return new JsonObject()
                .put(ID, tenantId + "#" + partition)
                .put(TENANT_ID, tenantId)
                .put(PARTITION, partition)
                .put(CHECKED_AT, checkedAt)
                .put(OP_ID, opId);
    }

    public static PartitionCheck fromDocument(JsonObject d) {
        return new PartitionCheck(
                d.getString(TENANT_ID), d.getInteger(PARTITION), d.getString(CHECKED_AT), d.getString(OP_ID));
    }
}
