package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * The partition count of a deployment's data (MongoDB {@code deployment}, {@code _id} {@code
 * partitions}): every file's record, object key and points carry the partition its id falls in among
 * this many, so it is a property of the data, not of a node. Written once, by the first node to start
 * on the database ({@link DeploymentPartitions}); every node after checks its {@code SYNC_PARTITIONS}
 * against it. {@code basis}: {@link #EMPTY} when the database held no file record then, {@link
 * #SAMPLED} when it held records of a deployment from before this document, {@code sampled} of which
 * all agreed with the count.
 */
public record PartitionCount(int partitions, String recordedAt, String recordedBy, String basis, int sampled) {

    public static final String COLLECTION = "deployment";

    /** The document's {@code _id}. */
    public static final String KEY = "partitions";

    /** The stored document's field names. */
    public static final String ID = "_id";

    public static final String PARTITIONS = "partitions";
    public static final String RECORDED_AT = "recordedAt";
    public static final String RECORDED_BY = "recordedBy";
    public static final String BASIS = "basis";
    public static final String SAMPLED_RECORDS = "sampled";

    /** Recorded by the first node on a database without file records. */
    public static final String EMPTY = "empty";

    /** Recorded from the configured count, which every sampled record of an earlier deployment agreed with. */
    public static final String SAMPLED = "sampled";

    JsonObject toDocument() {
        return new JsonObject()
                .put(ID, KEY)
                .put(PARTITIONS, partitions)
                .put(RECORDED_AT, recordedAt)
                .put(RECORDED_BY, recordedBy)
                .put(BASIS, basis)
                .put(SAMPLED_RECORDS, sampled);
    }

    /** The stored document, or null; a count that is no whole number of 1 or more is {@code 0} (no count). */
    static PartitionCount fromDocument(JsonObject d) {
        if (d == null) {
            return null;
        }
        Object count = d.getValue(PARTITIONS);
        int partitions = count instanceof Number n
                        && n.doubleValue() == Math.rint(n.doubleValue())
                        && n.doubleValue() >= 1
                        && n.doubleValue() <= Integer.MAX_VALUE
                ? n.intValue()
                : 0;
        Object sampled = d.getValue(SAMPLED_RECORDS);
        return new PartitionCount(
                partitions,
                d.getValue(RECORDED_AT) instanceof String s ? s : null,
                d.getValue(RECORDED_BY) instanceof String s ? s : null,
                d.getValue(BASIS) instanceof String s ? s : null,
                sampled instanceof Number n ? n.intValue() : 0);
    }
}
