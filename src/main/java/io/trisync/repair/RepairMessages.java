package io.trisync.repair;

import io.trisync.store.Actor;
import io.trisync.store.ReindexCheckpoints;
import io.trisync.store.ReindexCheckpoints.Skipped;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The requests and replies of the repair addresses ({@link RepairAddresses}), each with its wire form in one place. */
public final class RepairMessages {

    private static final String ACTOR = "actor";
    private static final String TENANT_ID = "tenantId";

    private RepairMessages() {}

    /**
     * Plan ({@code dryRun}) or apply the repairs of a tenant (null: every tenant with open issues),
     * narrowed to {@code issueTypes} and {@code fileIds} when given (null: all).
     */
    public record FixRequest(String tenantId, boolean dryRun, JsonArray issueTypes, JsonArray fileIds, Actor actor) {
        public FixRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put("dryRun", dryRun)
                    .put("issueTypes", issueTypes)
                    .put("fileIds", fileIds)
                    .put(ACTOR, actor.toJson());
        }

        public static FixRequest fromJson(JsonObject json) {
            return new FixRequest(
                    json.getString(TENANT_ID),
                    json.getBoolean("dryRun", true),
                    json.getJsonArray("issueTypes"),
                    json.getJsonArray("fileIds"),
                    Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /**
     * Re-embed the tenant's files made by another model than the one in use ({@code all}: every
     * file); {@code dryRun}: only count them and estimate the time.
     */
    public record ReindexRequest(String tenantId, boolean dryRun, boolean all, Actor actor) {
        public ReindexRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put("dryRun", dryRun)
                    .put("all", all)
                    .put(ACTOR, actor.toJson());
        }

        public static ReindexRequest fromJson(JsonObject json) {
            return new ReindexRequest(
                    json.getString(TENANT_ID),
                    json.getBoolean("dryRun", false),
                    json.getBoolean("all", false),
                    Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /** One partition of re-index operation {@code opId}, resumed from its checkpoint when it has one. */
    public record ReindexPartition(String tenantId, int partition, String opId, boolean all, String model) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put("partition", partition)
                    .put("opId", opId)
                    .put("all", all)
                    .put("model", model);
        }

        public static ReindexPartition fromJson(JsonObject json) {
            return new ReindexPartition(
                    json.getString(TENANT_ID),
                    json.getInteger("partition"),
                    json.getString("opId"),
                    json.getBoolean("all", false),
                    json.getString("model"));
        }
    }

    /**
     * What a re-index did (a batch, a partition, a run or all runs of one): files re-embedded and
     * their chunks, files in its scope it left as they were ({@code skipped}), the first {@value
     * ReindexCheckpoints#SKIPPED_KEPT} of those by id and reason, and the last batch size.
     */
    public record ReindexDone(long files, long chunks, long skipped, List<Skipped> skippedFiles, int batchSize) {

        public static final ReindexDone NONE = new ReindexDone(0, 0, 0, List.of(), 0);

        public ReindexDone {
            skippedFiles = skippedFiles == null ? List.of() : List.copyOf(skippedFiles);
        }

        /** The files one batch left out, nothing else. */
        static ReindexDone skipping(List<Skipped> left) {
            return new ReindexDone(
                    0, 0, left.size(), left.subList(0, Math.min(left.size(), ReindexCheckpoints.SKIPPED_KEPT)), 0);
        }

        /** What a run went on from: the counts a checkpoint holds. */
        static ReindexDone of(ReindexCheckpoints.Checkpoint c) {
            return new ReindexDone(c.files(), c.chunks(), c.skipped(), c.skippedFiles(), 0);
        }

        /** Both together (the skipped files' ids up to the cap); the batch size {@code batchSize}. */
        public ReindexDone plus(ReindexDone more, int batchSize) {
            List<Skipped> ids = new ArrayList<>(skippedFiles);
            for (Skipped s : more.skippedFiles()) {
                if (ids.size() >= ReindexCheckpoints.SKIPPED_KEPT) {
                    break;
                }
                ids.add(s);
            }
            return new ReindexDone(
                    files + more.files(), chunks + more.chunks(), skipped + more.skipped(), ids, batchSize);
        }

        /** Files dealt with: re-embedded or left out. */
        public long dealtWith() {
            return files + skipped;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("files", files)
                    .put("chunks", chunks)
                    .put("skipped", skipped)
                    .put("skippedFiles", skippedJson(skippedFiles))
                    .put("batchSize", batchSize);
        }

        public static ReindexDone fromJson(JsonObject json) {
            List<Skipped> skipped = new ArrayList<>();
            JsonArray ids = json.getJsonArray("skippedFiles", new JsonArray());
            for (int i = 0; i < ids.size(); i++) {
                JsonObject s = ids.getJsonObject(i);
                skipped.add(new Skipped(s.getString(Skipped.FILE_ID), s.getString(Skipped.REASON)));
            }
            return new ReindexDone(
                    json.getLong("files", 0L),
                    json.getLong("chunks", 0L),
                    json.getLong("skipped", 0L),
                    skipped,
                    json.getInteger("batchSize", 0));
        }
    }

    /** Skipped files as {@code [{file_id, reason}]}. */
    static JsonArray skippedJson(List<Skipped> skipped) {
        JsonArray out = new JsonArray();
        skipped.forEach(
                s -> out.add(new JsonObject().put(Skipped.FILE_ID, s.fileId()).put(Skipped.REASON, s.reason())));
        return out;
    }

    /** A re-index's dry run: the files and chunks it would re-embed and the time it should take. */
    public record ReindexEstimate(String tenantId, String model, long files, long chunks, long estimatedSeconds) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("dry_run", true)
                    .put("tenant_id", tenantId)
                    .put("model", model)
                    .put("files", files)
                    .put("chunks", chunks)
                    .put("estimated_seconds", estimatedSeconds);
        }
    }

    /**
     * A completed re-index's result (its tracked operation's {@code result}): what it re-embedded and
     * left out over the whole tenant ({@code all}: this run and the runs it resumed from, {@code
     * resumedFrom}, oldest first), of which this run ({@code thisRun}); how fast this run went; and
     * what the verifying scan left ({@code staleAfter}, {@code issuesAfter}); with the state of a
     * model change when one is under way ({@link VectorSwitch}).
     */
    public record ReindexResult(
            String model,
            ReindexDone all,
            ReindexDone thisRun,
            List<String> resumedFrom,
            double filesPerSecond,
            double chunksPerSecond,
            int batchSize,
            double reembedSeconds,
            double verifySeconds,
            long staleAfter,
            long issuesAfter,
            VectorSwitch vectorSwitch) {
        public JsonObject toJson() {
            JsonObject json = new JsonObject()
                    .put("model", model)
                    .put("files", all.files())
                    .put("chunks", all.chunks())
                    .put("skipped", all.skipped())
                    .put("skipped_files", skippedJson(all.skippedFiles()))
                    .put(
                            "skipped_files_truncated",
                            all.skipped() > all.skippedFiles().size())
                    .put("files_this_run", thisRun.files())
                    .put("chunks_this_run", thisRun.chunks())
                    .put("skipped_this_run", thisRun.skipped())
                    .put("resumed_from", new JsonArray(new ArrayList<>(resumedFrom)))
                    .put("files_per_second", filesPerSecond)
                    .put("chunks_per_second", chunksPerSecond)
                    .put("batch_size", batchSize)
                    .put("reembed_seconds", reembedSeconds)
                    .put("verify_seconds", verifySeconds)
                    .put("stale_after", staleAfter)
                    .put("issues_after", issuesAfter);
            return vectorSwitch == null ? json : json.mergeIn(vectorSwitch.toJson());
        }
    }

    /**
     * Where a model change stands after a re-index: switched ({@code switchedTo}, {@code
     * retiredCollection}), or still waiting for {@code waitsFor} files (-1: this node cannot judge,
     * {@code note} says why) while {@code servingCollection} serves.
     */
    public record VectorSwitch(
            Long waitsFor, String servingCollection, String note, String switchedTo, String retiredCollection) {
        static VectorSwitch waiting(long files, String serving, String note) {
            return new VectorSwitch(files, serving, note, null, null);
        }

        static VectorSwitch switched(String to, String retired) {
            return new VectorSwitch(null, null, null, to, retired);
        }

        public JsonObject toJson() {
            JsonObject json = new JsonObject();
            if (waitsFor != null) {
                json.put("switch_waits_for", waitsFor).put("serving_collection", servingCollection);
            }
            if (note != null) {
                json.put("note", note);
            }
            if (switchedTo != null) {
                json.put("switched_to", switchedTo).put("retired_collection", retiredCollection);
            }
            return json;
        }
    }

    /** The repairs a dry run would take: counts over all, the first ones listed ({@code truncated} when not all). */
    public record RepairPlan(JsonObject counts, JsonArray actions, boolean truncated) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("dry_run", true)
                    .put("counts", counts)
                    .put("actions", actions)
                    .put("truncated", truncated);
        }
    }

    /** Repairs started: one operation per tenant ({@code operationId} set when one tenant was asked for). */
    public record RepairsStarted(List<String> operationIds, String operationId) {
        public JsonObject toJson() {
            JsonObject json = new JsonObject().put("dry_run", false).put("operation_ids", new JsonArray(operationIds));
            return operationId == null ? json : json.put("operation_id", operationId);
        }
    }

    /** An action of a repair that failed or was left to a person, as its result lists it. */
    public record RepairFailure(String fileId, String action, String status, String reason) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("file_id", fileId)
                    .put("action", action)
                    .put("status", status)
                    .put("reason", reason);
        }
    }

    /**
     * A repair's result (its tracked operation's {@code result}): what it attempted and what came of it.
     * Each attempted action is counted once: {@code attempted} = {@code successful} (taken and done) +
     * {@code alreadyResolved} (not taken: its issues were gone) + {@code leftToPerson} + {@code failed}.
     * {@code issuesResolved}: the issues closed, each one the check after its file's actions could see
     * was gone.
     */
    public record RepairResult(
            long files,
            long attempted,
            long successful,
            long alreadyResolved,
            long leftToPerson,
            long failed,
            long issuesResolved,
            List<RepairFailure> failures) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("files", files)
                    .put("attempted", attempted)
                    .put("successful", successful)
                    .put("already_resolved", alreadyResolved)
                    .put("left_to_person", leftToPerson)
                    .put("failed", failed)
                    .put("issues_resolved", issuesResolved)
                    .put(
                            "failures",
                            new JsonArray(
                                    failures.stream().map(RepairFailure::toJson).toList()));
        }
    }

    /** A fix operation's result and audit; {@code tenantId} set: only if it is that tenant's. */
    public record ResultQuery(String opId, String tenantId) {
        public JsonObject toJson() {
            return new JsonObject().put("opId", opId).put(TENANT_ID, tenantId);
        }

        public static ResultQuery fromJson(JsonObject json) {
            return new ResultQuery(json.getString("opId"), json.getString(TENANT_ID));
        }
    }

    /** Quarantine ledger entries in {@code state} (null: quarantined), at most {@code limit} (null: 100). */
    public record QuarantineQuery(String tenantId, String state, Integer limit) {
        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId).put("state", state).put("limit", limit);
        }

        public static QuarantineQuery fromJson(JsonObject json) {
            return new QuarantineQuery(json.getString(TENANT_ID), json.getString("state"), json.getInteger("limit"));
        }
    }

    /** Put quarantined object {@code id} back; {@code tenantId} set: only if it is that tenant's. */
    public record RestoreRequest(String id, String tenantId, Actor actor) {
        public RestoreRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put("id", id).put(TENANT_ID, tenantId).put(ACTOR, actor.toJson());
        }

        public static RestoreRequest fromJson(JsonObject json) {
            return new RestoreRequest(
                    json.getString("id"), json.getString(TENANT_ID), Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /** Delete for good what was quarantined more than {@code olderThanDays} ago (null: the retention). */
    public record PurgeRequest(String tenantId, Integer olderThanDays, Actor actor) {
        public PurgeRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put("olderThanDays", olderThanDays)
                    .put(ACTOR, actor.toJson());
        }

        public static PurgeRequest fromJson(JsonObject json) {
            return new PurgeRequest(
                    json.getString(TENANT_ID),
                    json.getInteger("olderThanDays"),
                    Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }
}
