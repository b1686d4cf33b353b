package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.repair.RepairAddresses;
import io.trisync.repair.RepairMessages.FixRequest;
import io.trisync.repair.RepairMessages.PurgeRequest;
import io.trisync.repair.RepairMessages.QuarantineQuery;
import io.trisync.repair.RepairMessages.RestoreRequest;
import io.trisync.repair.RepairMessages.ResultQuery;
import io.vertx.core.Vertx;
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
        this.bus = new BusClient(ClusterBus.of(vertx), timeoutMs);
    }

    public void mount(Router router) {
        BodyHandler body = BodyHandler.create().setBodyLimit(1024 * 1024);
        Bodies.post(router, "/api/sync/fix", body).handler(this::fix);
        router.get("/api/sync/fix/:operation_id")
                .handler(ctx -> forward(
                        ctx,
                        RepairAddresses.RESULT,
                        new ResultQuery(
                                        ctx.pathParam("operation_id"),
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
        Bodies.post(router, "/api/sync/quarantine/purge", body).handler(this::purge);
        router.post("/api/sync/quarantine/:id/restore")
                .handler(ctx -> forward(
                        ctx,
                        RepairAddresses.QUARANTINE_RESTORE,
                        new RestoreRequest(
                                        ctx.pathParam("id"),
                                        Access.caller(ctx)
                                                .tenantFor(ctx.queryParams().get("user_id")),
                                        Access.actor(ctx))
                                .toJson(),
                        200));
    }

    private void fix(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        FixRequest request = new FixRequest(
                Access.caller(ctx).tenantFor(Bodies.string(body, "user_id")),
                Bodies.bool(body, "dry_run", true),
                Bodies.list(body, "issue_types"),
                Bodies.list(body, "file_ids"),
                Access.actor(ctx));
        forward(ctx, RepairAddresses.FIX, request.toJson(), request.dryRun() ? 200 : 202);
    }

    private void purge(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        Integer days = Bodies.integer(body, "older_than_days");
        forward(
                ctx,
                RepairAddresses.QUARANTINE_PURGE,
                new PurgeRequest(Access.caller(ctx).tenantFor(Bodies.string(body, "user_id")), days, Access.actor(ctx))
                        .toJson(),
                200);
    }

    private void forward(RoutingContext ctx, String address, JsonObject request, int status) {
        (address.equals(RepairAddresses.RESULT) || address.equals(RepairAddresses.QUARANTINE_LIST)
                        ? bus.read(address, request)
                        : bus.request(address, request))
                .onSuccess(reply -> FilesApi.json(ctx, status, reply))
                .onFailure(ctx::fail);
    }
}
