package io.trisync.store;

import io.vertx.core.Future;
import java.util.List;

/**
 * Where each partition's re-index stopped, so a re-index that was cancelled, timed out or killed
 * resumes there when started again. One per (tenant, partition), valid for the model it was made
 * with ({@code model}) and for the scope ({@code all}); a completed re-index removes its tenant's.
 * A checkpoint also counts the work behind it, over every run that went on from it, so a resumed
 * re-index reports the whole tenant's figures and not only its own.
 */
public interface ReindexCheckpoints {

    /** Files of a partition's skipped ones a checkpoint keeps by id (the count goes on past it). */
    int SKIPPED_KEPT = 100;

    /**
     * A file a re-index left as it was, and why: {@link #CONTENT_MISSING} (S3 no longer holds its
     * content; a scan reports it {@code MISSING_BLOB}), {@link #CHANGED} (deleted or given a new
     * version while it was re-embedded; the new version is embedded by its own write), {@link
     * #REFUSED} (the embedding model refused its text, or its text could not be extracted).
     */
    record Skipped(String fileId, String reason) {

        public static final String CONTENT_MISSING = "content_missing";
        public static final String CHANGED = "changed";
        public static final String REFUSED = "refused";

        /** The stored (and published) document's field names. */
        public static final String FILE_ID = "file_id";

        public static final String REASON = "reason";
    }

    /**
     * {@code lastFileId}: every file up to it (in id order) is done; {@code done}: the whole
     * partition. {@code files}, {@code chunks}, {@code skipped}: what the runs that made it
     * re-embedded and left out up to {@code lastFileId}, all runs together; {@code skippedFiles} the
     * first {@value #SKIPPED_KEPT} of those left out; {@code runs}: those runs' operation ids, oldest
     * first. {@code pending}: the files of the batch after {@code lastFileId} being written (their
     * records may be patched before the next checkpoint, which clears it): a run that goes on from
     * here counts those it finds made by its model as done before it, since it passes them over.
     */
    record Checkpoint(
            String tenantId,
            int partition,
            String model,
            boolean all,
            String lastFileId,
            boolean done,
            long files,
            long chunks,
            long skipped,
            List<Skipped> skippedFiles,
            List<String> runs,
            List<String> pending) {

        /** The stored document's field names ({@code _id}: tenant and partition). */
        public static final String ID = "_id";

        public static final String TENANT_ID = "tenantId";
        public static final String PARTITION = "partition";
        public static final String MODEL = "model";
        public static final String ALL = "all";
        public static final String LAST_FILE_ID = "lastFileId";
        public static final String DONE = "done";
        public static final String FILES = "files";
        public static final String CHUNKS = "chunks";
        public static final String SKIPPED = "skipped";
        public static final String SKIPPED_FILES = "skippedFiles";
        public static final String RUNS = "runs";
        public static final String PENDING = "pending";

        public Checkpoint {
            skippedFiles = skippedFiles == null ? List.of() : List.copyOf(skippedFiles);
            runs = runs == null ? List.of() : List.copyOf(runs);
            pending = pending == null ? List.of() : List.copyOf(pending);
        }

        /** Whether a re-index with {@code model} over {@code all} files or only another model's goes on from here. */
        public boolean resumes(String model, boolean all) {
            return model.equals(this.model) && this.all == all;
        }
    }

    Future<Void> init();

    /** The partition's checkpoint, or null. */
    Future<Checkpoint> get(String tenantId, int partition);

    /** Every checkpoint of the tenant, in no particular order. */
    Future<List<Checkpoint>> list(String tenantId);

    Future<Void> save(Checkpoint checkpoint);

    /** Removes every checkpoint of the tenant. */
    Future<Void> clear(String tenantId);
}
