package io.trisync.ops;

import io.trisync.store.Actor;
import io.vertx.core.json.JsonObject;

/**
 * The requests of the tracked-operation addresses ({@link OpsAddresses}, and every capability's
 * {@code start}), each with its wire form in one place. Values are read as they are; the verticle
 * that answers validates them.
 */
public final class OpsMessages {

    private static final String ACTOR = "actor";
    private static final String TENANT_ID = "tenantId";
    private static final String OP_ID = "opId";
    private static final String STATUS = "status";
    private static final String LIMIT = "limit";

    private OpsMessages() {}

    /** One tenant: starting a scan or repair, its status, a periodic scan's completion. */
    public record TenantRef(String tenantId) {
        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId);
        }

        public static TenantRef fromJson(JsonObject json) {
            return new TenantRef(json.getString(TENANT_ID));
        }
    }

    /** A page of the history, newest first: one tenant's or (null) all, one status or (null) any. */
    public record HistoryQuery(String tenantId, String status, int limit) {
        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId).put(STATUS, status).put(LIMIT, limit);
        }

        public static HistoryQuery fromJson(JsonObject json) {
            return new HistoryQuery(json.getString(TENANT_ID), json.getString(STATUS), json.getInteger(LIMIT, 50));
        }
    }

    /** Cancel one operation; {@code tenantId} set: only if it is that tenant's. */
    public record CancelRequest(String opId, String tenantId, Actor actor) {
        public CancelRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put(OP_ID, opId).put(TENANT_ID, tenantId).put(ACTOR, actor.toJson());
        }

        public static CancelRequest fromJson(JsonObject json) {
            return new CancelRequest(
                    json.getString(OP_ID), json.getString(TENANT_ID), Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /** End every stuck operation now, as {@code actor} asked. */
    public record CleanupRequest(Actor actor) {
        public CleanupRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put(ACTOR, actor.toJson());
        }

        public static CleanupRequest fromJson(JsonObject json) {
            return new CleanupRequest(Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }

    /** Start a scan or repair of one tenant, as {@code actor} asked. */
    public record StartRequest(String tenantId, Actor actor) {
        public StartRequest {
            actor = actor == null ? Actor.SYSTEM : actor;
        }

        public JsonObject toJson() {
            return new JsonObject().put(TENANT_ID, tenantId).put(ACTOR, actor.toJson());
        }

        public static StartRequest fromJson(JsonObject json) {
            return new StartRequest(json.getString(TENANT_ID), Actor.fromJson(json.getJsonObject(ACTOR)));
        }
    }
}
