package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * File metadata (MongoDB {@code files}). Every method's future fails with {@link
 * Failure.Unavailable} when the database cannot be reached.
 */
public interface MetadataStore {

    /** What a listing selects: one tenant, optionally one partition and one status. */
    record FileQuery(String tenantId, Integer partition, FileRecord.Status status) {
        public static FileQuery tenant(String tenantId) {
            return new FileQuery(tenantId, null, null);
        }

        public static FileQuery partition(String tenantId, int partition) {
            return new FileQuery(tenantId, partition, null);
        }
    }

    /** Creates the indexes listings rely on; completes when they exist. */
    Future<Void> init();

    /** Inserts or replaces the record with the same id. */
    Future<Void> upsert(FileRecord record);

    /** Inserts or replaces many records in one bulk write; completes with how many were written. */
    Future<Integer> upsertAll(List<FileRecord> records);

    /** Inserts a new record; fails with {@link Failure.Conflict} when its id exists. */
    Future<Void> insert(FileRecord record);

    /** The record; fails with {@link Failure.NotFound} when there is none. */
    Future<FileRecord> get(String fileId);

    /**
     * Up to {@code limit} records matching {@code query} in ascending id order, after id {@code
     * afterId} (null: from the start). The page's {@code next} is the token for the following page.
     * Keyset paging: each page is one bounded query, so a stalled cursor cannot hang a scan.
     */
    Future<Page<FileRecord>> list(FileQuery query, String afterId, int limit);

    /**
     * Up to {@code limit} active records of a tenant, newest first (file ids are time-ordered), with
     * ids below {@code beforeId} (null: from the newest). The page's {@code next} is the following cursor.
     */
    Future<Page<FileRecord>> listNewest(String tenantId, String beforeId, int limit);

    /**
     * Sets fields of the {@code sync} sub-document (the last scan's verdict) of each record named in
     * {@code verdicts}, in one bulk write; a field given as null is removed. Fields not given are kept.
     */
    Future<Void> recordVerdicts(Map<String, SyncVerdict.Change> verdicts);

    /** Records that a scan checked every file of the check's partition (replacing the partition's last check). */
    Future<Void> partitionChecked(PartitionCheck check);

    /** The last check of each of the tenant's partitions that a scan has checked, by partition. */
    Future<Map<Integer, PartitionCheck>> partitionChecks(String tenantId);

    /**
     * Sets {@code set} (dotted paths allowed) on the record when it still matches {@code expected}
     * (field values, as read before deciding), and bumps its version and update time (now, unless
     * {@code set} names {@link FileRecord#UPDATED_AT}: the time a caller shows). Completes with
     * whether it matched: false means the record changed (or went) in between.
     */
    Future<Boolean> patch(String fileId, JsonObject expected, JsonObject set);

    /** How many active records of a tenant carry the last-scan verdict {@code verdict} (null: never scanned). */
    Future<Long> countVerdict(String tenantId, String verdict);

    /** Every tenant that has at least one record, sorted. */
    Future<List<String>> tenants();

    /** The records of {@code fileIds} that exist (one read, by id). */
    Future<List<FileRecord>> getAll(List<String> fileIds);

    /** One conditional update of {@link #patchAll}: {@code set} applied to {@code fileId} if it matches {@code expected}. */
    record Patch(String fileId, JsonObject expected, JsonObject set) {}

    /** {@link #patch} of many records in one bulk write; completes with how many matched. */
    Future<Long> patchAll(List<Patch> patches);

    /** How many records match {@code query}. */
    Future<Long> count(FileQuery query);

    /** How many of the tenant's active files are kept without vectors because their indexing failed. */
    Future<Long> countIndexingFailed(String tenantId);

    /** Active files of every tenant whose vectors (one chunk or more) another model than {@code model} made. */
    Future<Long> countEmbeddedByOther(String model);

    /** Active files of every tenant by their latest scan verdict ({@code sync.verdict}; null: never checked). */
    Future<Map<String, Long>> countByVerdict();

    /** Up to {@code limit} records of deleted files (tombstones) last changed before {@code before}. */
    Future<List<FileRecord>> tombstonesBefore(Instant before, int limit);

    /** Removes the records {@code fileIds} that are still tombstones; how many. */
    Future<Long> removeTombstones(List<String> fileIds);

    /** Removes the record for good; completes with whether one existed. */
    Future<Boolean> remove(String fileId);

    /** Completes when the database answers a ping. */
    Future<Void> ping();

    /** Closes the client. */
    Future<Void> close();
}
