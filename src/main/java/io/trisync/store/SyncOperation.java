package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * A tracked sync operation (MongoDB {@code sync_operations}, docs/design.md "Tracked operations"): a scan, repair or
 * re-index of one tenant, with its heartbeat, progress and outcome. {@code incarnation} is the
 * node process that runs it: once that is gone the operation is stuck at once ({@code
 * IncarnationRule}).
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
        String incarnation,
        JsonObject result,
        Actor startedBy) {

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

    /** Where the operation is: stage, percentage, the file it is on and how many there are. */
    public record Progress(
            String stage,
            double percentage,
            long currentFile,
            long totalFiles,
            Double rate,
            Long etaSeconds,
            Integer partitionsDone,
            Integer partitions) {

        public static final Progress INITIAL = new Progress("initializing", 0, 0, 0);

        /** Progress without a rate or an estimate of the time left. */
        public Progress(String stage, double percentage, long currentFile, long totalFiles) {
            this(stage, percentage, currentFile, totalFiles, null, null, null, null);
        }

        public JsonObject toJson() {
            JsonObject json = new JsonObject()
                    .put("stage", stage)
                    .put("percentage", percentage)
                    .put("currentFile", currentFile)
                    .put("totalFiles", totalFiles);
            if (rate != null) {
                json.put("rate", rate);
            }
            if (etaSeconds != null) {
                json.put("etaSeconds", etaSeconds);
            }
            if (partitions != null) {
                json.put("partitionsDone", partitionsDone).put("partitions", partitions);
            }
            return json;
        }

        static Progress fromJson(JsonObject json) {
            return json == null
                    ? INITIAL
                    : new Progress(
                            json.getString("stage", "initializing"),
                            json.getDouble("percentage", 0.0),
                            json.getLong("currentFile", 0L),
                            json.getLong("totalFiles", 0L),
                            json.getDouble("rate"),
                            json.getLong("etaSeconds"),
                            json.getInteger("partitionsDone"),
                            json.getInteger("partitions"));
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
                .put("_id", id)
                .put("tenantId", tenantId)
                .put("kind", kind)
                .put("status", status.wire())
                .put("startedAt", Dates.toBson(startedAt))
                .put("completedAt", Dates.toBson(completedAt))
                .put("heartbeatAt", Dates.toBson(heartbeatAt))
                .put("expectedDurationSeconds", expectedDurationSeconds)
                .put("progress", progress.toJson())
                .put("filesProcessed", filesProcessed)
                .put("errorMessage", errorMessage)
                .put("nodeId", nodeId)
                .put("incarnation", incarnation)
                .put("result", result)
                .put("startedBy", startedBy.toJson());
    }

    public static SyncOperation fromDocument(JsonObject d) {
        return new SyncOperation(
                d.getString("_id"),
                d.getString("tenantId"),
                d.getString("kind"),
                Status.fromWire(d.getString("status")),
                Dates.fromBson(d.getValue("startedAt")),
                Dates.fromBson(d.getValue("completedAt")),
                Dates.fromBson(d.getValue("heartbeatAt")),
                d.getLong("expectedDurationSeconds", 0L),
                Progress.fromJson(d.getJsonObject("progress")),
                d.getLong("filesProcessed", 0L),
                d.getString("errorMessage"),
                d.getString("nodeId"),
                d.getString("incarnation"),
                d.getJsonObject("result"),
                Actor.fromJson(d.getJsonObject("startedBy")));
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
                .put("node_id", nodeId)
                .put("progress", publicProgress())
                .put("result", result);
    }

    /** The progress; {@code rate} and {@code eta_seconds} only for the kinds that measure them (re-index). */
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
        return json;
    }
}
