package io.trisync.http;

import io.trisync.failure.Failure;
import io.trisync.repair.RepairAddresses;
import io.trisync.repair.RepairMessages.FixRequest;
import io.trisync.repair.RepairMessages.PurgeRequest;
import io.trisync.repair.RepairMessages.QuarantineQuery;
import io.trisync.repair.RepairMessages.RestoreRequest;
import io.trisync.repair.RepairMessages.ResultQuery;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Repairs over HTTP (seed 000): {@code POST /api/sync/fix} (dry run by default: the plan; otherwise
 * 202 with the operation id), {@code GET /api/sync/fix/{operation_id}} (result and audit trail), and
 * the quarantine: {@code GET /api/sync/quarantine?user_id=}, {@code POST
 * /api/sync/quarantine/{id}/restore}, {@code POST /api/sync/quarantine/purge}.
 */
public final class RepairApi {

    private final BusClient bus;

    public RepairApi(Vertx vertx, long timeoutMs) {
        this.bus = new BusClient(vertx.eventBus(), timeoutMs);
    }

    public void mount(Router router) {
        BodyHandler body = BodyHandler.create().setBodyLimit(1024 * 1024);
        router.post("/api/sync/fix").handler(body).handler(this::fix);
        router.get("/api/sync/fix/:operationId")
                .handler(ctx -> forward(
                        ctx,
                        RepairAddresses.RESULT,
                        new ResultQuery(
                                        ctx.pathParam("operationId"),
                                        Access.caller(ctx)
                                                .tenantFor(ctx.queryParams().get("user_id")))
                                .toJson(),
                        200));
        router.get("/api/sync/quarantine")
                .handler(ctx -> forward(
                        ctx,
                        RepairAddresses.QUARANTINE_LIST,
                        new QuarantineQuery(
                                        Access.caller(ctx)
                                                .tenantFor(ctx.queryParams().get("user_id")),
                                        ctx.queryParams().get("state"),
                                        FilesApi.intParam(ctx, "limit", 100))
                                .toJson(),
                        200));
        router.post("/api/sync/quarantine/purge").handler(body).handler(this::purge);
        router.post("/api/sync/quarantine/:id/restore")
                .handler(ctx -> forward(
                        ctx,
                        RepairAddresses.QUARANTINE_RESTORE,
                        new RestoreRequest(
                                        ctx.pathParam("id"),
                                        Access.caller(ctx)
                                                .tenantFor(ctx.queryParams().get("user_id")))
                                .toJson(),
                        200));
    }

    private void fix(RoutingContext ctx) {
        JsonObject body = object(ctx);
        FixRequest request = new FixRequest(
                Access.caller(ctx).tenantFor(string(body, "user_id")),
                bool(body, "dry_run", true),
                list(body, "issue_types"),
                list(body, "file_ids"));
        forward(ctx, RepairAddresses.FIX, request.toJson(), request.dryRun() ? 200 : 202);
    }

    private void purge(RoutingContext ctx) {
        JsonObject body = object(ctx);
        Object days = body.getValue("older_than_days");
        if (days != null && !(days instanceof Integer)) {
            throw new Failure.BadRequest("older_than_days must be a whole number of days");
        }
        forward(
                ctx,
                RepairAddresses.QUARANTINE_PURGE,
                new PurgeRequest(Access.caller(ctx).tenantFor(string(body, "user_id")), (Integer) days).toJson(),
                200);
    }

    private void forward(RoutingContext ctx, String address, JsonObject request, int status) {
        bus.request(address, request)
                .onSuccess(reply -> FilesApi.json(ctx, status, reply))
                .onFailure(ctx::fail);
    }

    private static JsonObject object(RoutingContext ctx) {
        try {
            return ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
        } catch (DecodeException | ClassCastException e) {
            throw new Failure.BadRequest("body must be a JSON object");
        }
    }

    private static String string(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof String)) {
            throw new Failure.BadRequest(field + " must be a string");
        }
        return (String) value;
    }

    private static boolean bool(JsonObject body, String field, boolean fallback) {
        Object value = body.getValue(field, fallback);
        if (!(value instanceof Boolean b)) {
            throw new Failure.BadRequest(field + " must be true or false");
        }
        return b;
    }

    private static JsonArray list(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof JsonArray)) {
            throw new Failure.BadRequest(field + " must be a list");
        }
        return (JsonArray) value;
    }
}
