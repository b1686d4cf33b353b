package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.failure.Failure;
import io.trisync.ops.OpsAddresses;
import io.trisync.ops.OpsMessages;
import io.trisync.ops.OpsMessages.CancelRequest;
import io.trisync.ops.OpsMessages.HistoryQuery;
import io.trisync.ops.OpsMessages.StartRequest;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.repair.RepairMessages.ReindexRequest;
import io.trisync.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Set;

/**
 * The tracked-operation API under {@code /api/v1/sync} (snake_case): start, status, cleanup,
 * history, cancel. A start goes to the capability that runs the kind ({@code trisync.scan.start},
 * {@code trisync.repair.start}); with no node running it, the answer is 503.
 */
public final class SyncOpsApi {

    /** The kinds of tracked operation a caller may start. */
    static final Set<String> KINDS = Set.of("scan", "repair", "reindex");

    private final BusClient bus;

    public SyncOpsApi(Vertx vertx, long requestTimeoutMs) {
        this.bus = new BusClient(ClusterBus.of(vertx), requestTimeoutMs);
    }

    public void mount(Router router) {
        Bodies.post(router, "/api/v1/sync", BodyHandler.create().setBodyLimit(64 * 1024))
                .handler(this::start);
        router.get("/api/v1/sync/status").handler(this::status);
        router.post("/api/v1/sync/cleanup").handler(this::cleanup);
        router.get("/api/v1/sync/operations").handler(this::history);
        router.post("/api/v1/sync/:id/cancel").handler(this::cancel);
        router.get("/api/sync/status").handler(ctx -> {
            Access.caller(ctx).requireAdmin("the service status");
            reply(ctx, bus.read(OpsAddresses.SERVICE_STATUS, new JsonObject()));
        });
    }

    private void start(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        String tenant = Ids.require("tenant_id", Access.caller(ctx).tenantFor(Bodies.string(body, "tenant_id")));
        String kind = Bodies.string(body, "kind");
        if (kind == null || !KINDS.contains(kind)) {
            throw new Failure.BadRequest("kind must be \"scan\", \"repair\" or \"reindex\"");
        }
        if (!"reindex".equals(kind)) {
            refuseReindexFields(body, kind);
        }
        boolean dryRun = "reindex".equals(kind) && Bodies.bool(body, "dry_run", false);
        JsonObject request = "reindex".equals(kind)
                ? new ReindexRequest(tenant, dryRun, Bodies.bool(body, "all", false), Access.actor(ctx)).toJson()
                : new StartRequest(tenant, Access.actor(ctx)).toJson();
        bus.request(OpsAddresses.start(kind), request)
                .onSuccess(op -> FilesApi.json(ctx, dryRun ? 200 : 202, op))
                .onFailure(error -> conflictOrFail(ctx, error));
    }

    /**
     * {@code dry_run} and {@code all} are a re-index's: refused for another kind rather than ignored,
     * since a caller asking a repair for a dry run would otherwise see it applied.
     */
    private static void refuseReindexFields(JsonObject body, String kind) {
        for (String field : List.of("dry_run", "all")) {
            if (body.containsKey(field)) {
                throw new Failure.BadRequest(field + ": only kind \"reindex\" takes it; "
                        + ("repair".equals(kind)
                                ? "a repair started here applies its plan (POST /api/sync/fix plans it as a dry run)"
                                : "a scan repairs nothing (it reads the three stores and records what it finds)"));
            }
        }
    }

    /** A 409 from the tracker carries the running operation as JSON: answer with it. */
    private static void conflictOrFail(RoutingContext ctx, Throwable error) {
        if (error instanceof ReplyException r
                && r.failureCode() == 409
                && r.getMessage().startsWith("{")) {
            FilesApi.json(ctx, 409, new JsonObject(r.getMessage()));
        } else {
            ctx.fail(error);
        }
    }

    private void status(RoutingContext ctx) {
        String tenant = Ids.require(
                "tenant_id", Access.caller(ctx).tenantFor(ctx.queryParams().get("tenant_id")));
        reply(ctx, bus.read(OpsAddresses.STATUS, new TenantRef(tenant).toJson()));
    }

    private void cleanup(RoutingContext ctx) {
        Access.caller(ctx).requireAdmin("cleaning up stuck operations");
        reply(ctx, bus.request(OpsAddresses.CLEANUP, new OpsMessages.CleanupRequest(Access.actor(ctx)).toJson()));
    }

    private void history(RoutingContext ctx) {
        HistoryQuery query = new HistoryQuery(
                Access.caller(ctx).tenantFor(ctx.queryParams().get("tenant_id")),
                ctx.queryParams().get("status"),
                FilesApi.intParam(ctx, "limit", 50));
        reply(ctx, bus.read(OpsAddresses.HISTORY, query.toJson()));
    }

    private void cancel(RoutingContext ctx) {
        var caller = Access.caller(ctx);
        reply(
                ctx,
                bus.request(
                        OpsAddresses.CANCEL,
                        new CancelRequest(
                                        ctx.pathParam("id"), caller.admin() ? null : caller.tenant(), Access.actor(ctx))
                                .toJson()));
    }

    private static void reply(RoutingContext ctx, Future<JsonObject> result) {
        result.onSuccess(body -> FilesApi.json(ctx, 200, body)).onFailure(ctx::fail);
    }
}
