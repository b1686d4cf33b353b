package io.trisync.store;

import io.vertx.core.Future;

/**
 * Where each partition's re-index stopped, so a re-index that was cancelled, timed out or killed
 * resumes there when started again. One per (tenant, partition), valid for the model it was made
 * with ({@code model}) and for the scope ({@code all}); a completed re-index removes its tenant's.
 */
public interface ReindexCheckpoints {

    /** {@code lastFileId}: every file up to it (in id order) is done; {@code done}: the whole partition. */
    record Checkpoint(String tenantId, int partition, String model, boolean all, String lastFileId, boolean done) {

        /** The stored document's field names ({@code _id}: tenant and partition). */
        public static final String ID = "_id";

        public static final String TENANT_ID = "tenantId";
        public static final String PARTITION = "partition";
        public static final String MODEL = "model";
        public static final String ALL = "all";
        public static final String LAST_FILE_ID = "lastFileId";
        public static final String DONE = "done";
    }

    Future<Void> init();

    /** The partition's checkpoint, or null. */
    Future<Checkpoint> get(String tenantId, int partition);

    Future<Void> save(Checkpoint checkpoint);

    /** Removes every checkpoint of the tenant. */
    Future<Void> clear(String tenantId);
}
