package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * A tracked sync operation (MongoDB {@code sync_operations}, docs/design.md "Tracked operations"): a scan, repair or
 * re-index of one tenant, with its heartbeat, progress and outcome. {@code incarnation} is the
 * node process that runs it: once that is gone the operation is stuck at once ({@code
 * IncarnationRule}). {@code nodeId} is the id by which that node is judged to have left the cluster:
 * its process's cluster member id (its {@code NODE_ID} when standalone); {@code nodeName} its {@code
 * NODE_ID}, the name users see (null on operations recorded before it was kept).
 */
public record SyncOperation(
        String id,
        String tenantId,
        String kind,
        Status status,
        Instant startedAt,
        Instant completedAt,
        Instant heartbeatAt,
        long expectedDurationSeconds,
        Progress progress,
        long filesProcessed,
        String errorMessage,
        String nodeId,
        String nodeName,
        String incarnation,
        JsonObject result,
        Actor startedBy) {

    /** The document's field names. */
    public static final String ID = "_id";

    public static final String TENANT_ID = "tenantId";
    public static final String KIND = "kind";
    public static final String STATUS = "status";
    public static final String STARTED_AT = "startedAt";
    public static final String COMPLETED_AT = "completedAt";
    public static final String HEARTBEAT_AT = "heartbeatAt";
    public static final String EXPECTED_DURATION_SECONDS = "expectedDurationSeconds";
    public static final String PROGRESS = "progress";
    public static final String FILES_PROCESSED = "filesProcessed";
    public static final String ERROR_MESSAGE = "errorMessage";
    public static final String NODE_ID = "nodeId";
    public static final String NODE_NAME = "nodeName";
    public static final String INCARNATION = "incarnation";
    public static final String RESULT = "result";
    public static final String STARTED_BY = "startedBy";

    /** The kind of a scan (full, deep or a quick check). */
    public static final String SCAN = "scan";

    /** In a scan's {@link #result}: its mode ({@code full}, {@code deep} or {@code quick}). */
    public static final String RESULT_MODE = "mode";

    /**
     * The mode of a quick check: a sample that records no verdict and closes no issue, so it is not a
     * tenant's last scan ({@link SyncOperationStore#lastScans()}).
     */
    public static final String QUICK = "quick";

    /** Lifecycle; only RUNNING is not final. */
    public enum Status {
        RUNNING,
        COMPLETED,
        FAILED,
        TIMED_OUT,
        CANCELLED;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Status fromWire(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /**
     * Where the operation is: stage, percentage, the file it is on and how many there are; for a
     * re-index, of the files dealt with ({@code currentFile}) how many were re-embedded ({@code
     * filesReindexed}) and how many left out ({@code filesSkipped}), null for the other kinds.
     */
    public record Progress(
            String stage,
            double percentage,
            long currentFile,
            long totalFiles,
            Double rate,
            Long etaSeconds,
            Integer partitionsDone,
            Integer partitions,
            Long filesReindexed,
            Long filesSkipped) {

        /** The progress document's field names. */
        public static final String STAGE = "stage";

        public static final String PERCENTAGE = "percentage";
        public static final String CURRENT_FILE = "currentFile";
        public static final String TOTAL_FILES = "totalFiles";
        public static final String RATE = "rate";
        public static final String ETA_SECONDS = "etaSeconds";
        public static final String PARTITIONS_DONE = "partitionsDone";
        public static final String PARTITIONS = "partitions";
        public static final String FILES_REINDEXED = "filesReindexed";
        public static final String FILES_SKIPPED = "filesSkipped";

        public static final Progress INITIAL = new Progress("initializing", 0, 0, 0);

        /** Progress without a rate or an estimate of the time left. */
        public Progress(String stage, double percentage, long currentFile, long totalFiles) {
            this(stage, percentage, currentFile, totalFiles, null, null, null, null);
        }

        /** Progress that does not tell files re-embedded and left out apart. */
        public Progress(
                String stage,
                double percentage,
                long currentFile,
                long totalFiles,
                Double rate,
                Long etaSeconds,
                Integer partitionsDone,
                Integer partitions) {
            this(stage, percentage, currentFile, totalFiles, rate, etaSeconds, partitionsDone, partitions, null, null);
        }

        public JsonObject toJson() {
            JsonObject json = new JsonObject()
                    .put(STAGE, stage)
                    .put(PERCENTAGE, percentage)
                    .put(CURRENT_FILE, currentFile)
                    .put(TOTAL_FILES, totalFiles);
            if (rate != null) {
                json.put(RATE, rate);
            }
            if (etaSeconds != null) {
                json.put(ETA_SECONDS, etaSeconds);
            }
            if (partitions != null) {
                json.put(PARTITIONS_DONE, partitionsDone).put(PARTITIONS, partitions);
            }
            if (filesReindexed != null) {
                json.put(FILES_REINDEXED, filesReindexed).put(FILES_SKIPPED, filesSkipped);
            }
            return json;
        }

        static Progress fromJson(JsonObject json) {
            return json == null
                    ? INITIAL
                    : new Progress(
                            json.getString(STAGE, "initializing"),
                            json.getDouble(PERCENTAGE, 0.0),
                            json.getLong(CURRENT_FILE, 0L),
                            json.getLong(TOTAL_FILES, 0L),
                            json.getDouble(RATE),
                            json.getLong(ETA_SECONDS),
                            json.getInteger(PARTITIONS_DONE),
                            json.getInteger(PARTITIONS),
                            json.getLong(FILES_REINDEXED),
                            json.getLong(FILES_SKIPPED));
        }
    }

    public SyncOperation {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(startedAt, "startedAt");
        progress = progress == null ? Progress.INITIAL : progress;
        startedBy = startedBy == null ? Actor.SYSTEM : startedBy;
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put(ID, id)
                .put(TENANT_ID, tenantId)
                .put(KIND, kind)
                .put(STATUS, status.wire())
                .put(STARTED_AT, Dates.toBson(startedAt))
                .put(COMPLETED_AT, Dates.toBson(completedAt))
                .put(HEARTBEAT_AT, Dates.toBson(heartbeatAt))
                .put(EXPECTED_DURATION_SECONDS, expectedDurationSeconds)
                .put(PROGRESS, progress.toJson())
                .put(FILES_PROCESSED, filesProcessed)
                .put(ERROR_MESSAGE, errorMessage)
                .put(NODE_ID, nodeId)
                .put(NODE_NAME, nodeName)
                .put(INCARNATION, incarnation)
                .put(RESULT, result)
                .put(STARTED_BY, startedBy.toJson());
    }

    public static SyncOperation fromDocument(JsonObject d) {
        return new SyncOperation(
                d.getString(ID),
                d.getString(TENANT_ID),
                d.getString(KIND),
                Status.fromWire(d.getString(STATUS)),
                Dates.fromBson(d.getValue(STARTED_AT)),
                Dates.fromBson(d.getValue(COMPLETED_AT)),
                Dates.fromBson(d.getValue(HEARTBEAT_AT)),
                d.getLong(EXPECTED_DURATION_SECONDS, 0L),
                Progress.fromJson(d.getJsonObject(PROGRESS)),
                d.getLong(FILES_PROCESSED, 0L),
                d.getString(ERROR_MESSAGE),
                d.getString(NODE_ID),
                d.getString(NODE_NAME),
                d.getString(INCARNATION),
                d.getJsonObject(RESULT),
                Actor.fromJson(d.getJsonObject(STARTED_BY)));
    }

    /** The node's name for users: its {@code NODE_ID}, or its id on operations recorded before names were kept. */
    public String name() {
        return nodeName != null ? nodeName : nodeId;
    }

    /** The snake_case view for the REST API. */
    public JsonObject toPublicJson() {
        return new JsonObject()
                .put("id", id)
                .put("tenant_id", tenantId)
                .put("kind", kind)
                .put("status", status.wire())
                .put("started_at", String.valueOf(startedAt))
                .put("completed_at", completedAt == null ? null : completedAt.toString())
                .put("heartbeat_at", heartbeatAt == null ? null : heartbeatAt.toString())
                .put("started_by", startedBy.toJson())
                .put("expected_duration_seconds", expectedDurationSeconds)
                .put("files_processed", filesProcessed)
                .put("error_message", errorMessage)
                .put("node_id", name())
                .put("progress", publicProgress())
                .put("result", result);
    }

    /**
     * The progress; {@code rate}, {@code eta_seconds}, {@code files_reindexed} and {@code
     * files_skipped} only for the kinds that measure them (re-index).
     */
    private JsonObject publicProgress() {
        JsonObject json = new JsonObject()
                .put("stage", progress.stage())
                .put("percentage", progress.percentage())
                .put("current_file", progress.currentFile())
                .put("total_files", progress.totalFiles());
        if (progress.rate() != null) {
            json.put("rate", progress.rate());
        }
        if (progress.partitions() != null) {
            json.put("current_partition", progress.partitionsDone()).put("total_partitions", progress.partitions());
        }
        if (progress.etaSeconds() != null) {
            json.put("eta_seconds", progress.etaSeconds());
        }
        if (progress.filesReindexed() != null) {
            json.put("files_reindexed", progress.filesReindexed()).put("files_skipped", progress.filesSkipped());
        }
        return json;
    }
}
