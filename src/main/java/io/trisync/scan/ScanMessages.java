package io.trisync.scan;

import io.trisync.store.Actor;
import io.vertx.core.json.JsonObject;

/** The requests of the scan addresses ({@link ScanAddresses}), each with its wire form in one place. */
public final class ScanMessages {

    private static final String ACTOR = "actor";
    private static final String TENANT_ID = "tenantId";
    private static final String MODE = "mode";
    private static final String LIMIT = "limit";

    private ScanMessages() {}

    /**
     * Scan a tenant (or, {@code tenantId} null, all) and report: {@code mode} full, deep or quick;
     * {@code waitForReport} false answers with the operation ids at once; {@code sampleSize} and {@code seed}
     * for quick checks (null: the defaults).
     */
    public record AnalyzeRequest(
            String tenantId, String mode, boolean waitForReport, Integer sampleSize, Long seed, Actor actor) {
        public AnalyzeRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put(MODE, mode)
                    .put("wait", waitForReport)
                    .put("sampleSize", sampleSize)
                    .put("seed", seed)
                    .put(ACTOR, actor.toJson());
        }

        public static AnalyzeRequest fromJson(JsonObject json) {
            return new AnalyzeRequest(
                    json.getString(TENANT_ID),
                    json.getString(MODE, "full"),
                    json.getBoolean("wait", true),
                    json.getInteger("sampleSize"),
                    json.getLong("seed"),
                    Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /** A page of a tenant's files with their verdicts, and its summary; {@code cursor} from the last page. */
    public record StatusQuery(String tenantId, int limit, String cursor) {
        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId).put(LIMIT, limit).put("cursor", cursor);
        }

        public static StatusQuery fromJson(JsonObject json) {
            return new StatusQuery(json.getString(TENANT_ID), json.getInteger(LIMIT, 50), json.getString("cursor"));
        }
    }

    /** One file's story; {@code tenantId} null: whichever tenant holds it (an admin's request). */
    public record StoryQuery(String tenantId, String fileId) {
        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId).put("fileId", fileId);
        }

        public static StoryQuery fromJson(JsonObject json) {
            return new StoryQuery(json.getString(TENANT_ID), json.getString("fileId"));
        }
    }

    /** Start a scan of every tenant; {@code onlyDue}: only those not scanned within the check interval. */
    public record ConsistencyCheck(boolean onlyDue, Actor actor) {
        public ConsistencyCheck {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put("onlyDue", onlyDue).put(ACTOR, actor.toJson());
        }

        public static ConsistencyCheck fromJson(JsonObject json) {
            return new ConsistencyCheck(json.getBoolean("onlyDue", false), Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /**
     * One partition of scan {@code opId}; for a quick check, the sample's {@code seed} and {@code
     * rate} (null otherwise).
     */
    public record PartitionRequest(String tenantId, int partition, String mode, String opId, Long seed, Double rate) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put(TENANT_ID, tenantId)
                    .put("partition", partition)
                    .put(MODE, mode)
                    .put("opId", opId)
                    .put("seed", seed)
                    .put("rate", rate);
        }

        public static PartitionRequest fromJson(JsonObject json) {
            return new PartitionRequest(
                    json.getString(TENANT_ID),
                    json.getInteger("partition"),
                    json.getString(MODE),
                    json.getString("opId"),
                    json.getLong("seed"),
                    json.getDouble("rate"));
        }
    }

    /** {@link ScanAddresses#TRENDS}: the latest {@code limit} samples of {@code tenantId}, null: of all tenants. */
    public record TrendsQuery(String tenantId, int limit) {
        public JsonObject toJson() {
            return new JsonObject().put("tenantId", tenantId).put("limit", limit);
        }

        public static TrendsQuery fromJson(JsonObject j) {
            return new TrendsQuery(j.getString("tenantId"), j.getInteger("limit", 100));
        }
    }
}
