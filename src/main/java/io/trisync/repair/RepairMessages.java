package io.trisync.repair;

import io.trisync.store.Actor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The requests of the repair addresses ({@link RepairAddresses}), each with its wire form in one place. */
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

    /** What one partition's re-index did: files and chunks embedded, files left as they were, the last batch size. */
    public record ReindexDone(long files, long chunks, long skipped, int batchSize) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("files", files)
                    .put("chunks", chunks)
                    .put("skipped", skipped)
                    .put("batchSize", batchSize);
        }

        public static ReindexDone fromJson(JsonObject json) {
            return new ReindexDone(
                    json.getLong("files", 0L),
                    json.getLong("chunks", 0L),
                    json.getLong("skipped", 0L),
                    json.getInteger("batchSize", 0));
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
