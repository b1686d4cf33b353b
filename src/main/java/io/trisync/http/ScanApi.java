package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.failure.Failure;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanMessages.AnalyzeRequest;
import io.trisync.scan.ScanMessages.ConsistencyCheck;
import io.trisync.scan.ScanMessages.StatusQuery;
import io.trisync.scan.ScanMessages.TrendsQuery;
import io.trisync.store.TrendStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code POST /api/sync/analyze {"user_id"?, "mode"?: "full" | "deep" | "quick", "sample_size"?, "wait"?: true}}: the
 * consistency report of a tenant (or all tenants), or with {@code "wait": false} 202 and the ids of
 * the scan operations started.
 */
public final class ScanApi {

    private final BusClient bus;
    private final long scanTimeoutMs;

    public ScanApi(Vertx vertx, long scanTimeoutMs) {
        this.bus = new BusClient(ClusterBus.of(vertx), scanTimeoutMs);
        this.scanTimeoutMs = scanTimeoutMs;
    }

    public void mount(Router router) {
        Bodies.post(router, "/api/sync/analyze", BodyHandler.create().setBodyLimit(64 * 1024))
                .handler(this::analyze);
        router.get("/api/sync/status/:user_id").handler(this::tenantStatus);
        router.get("/api/sync/tenants").handler(ctx -> {
            Access.caller(ctx).requireAdmin("the overview of every tenant");
            bus.read(ScanAddresses.OVERVIEW, new JsonObject())
                    .onSuccess(all -> FilesApi.json(ctx, 200, all))
                    .onFailure(ctx::fail);
        });
        router.get("/api/sync/trends").handler(ctx -> {
            int limit = FilesApi.intParam(ctx, "limit", 100);
            if (limit < 1 || limit > TrendStore.KEPT) {
                throw new Failure.BadRequest("limit must be from 1 to " + TrendStore.KEPT);
            }
            String tenant = Access.caller(ctx).tenantFor(ctx.queryParams().get("user_id"));
            bus.read(ScanAddresses.TRENDS, new TrendsQuery(tenant, limit).toJson())
                    .onSuccess(trends -> FilesApi.json(ctx, 200, trends))
                    .onFailure(ctx::fail);
        });
        router.post("/api/sync/consistency-check")
                .handler(ctx -> {
                    Access.caller(ctx).requireAdmin("a global consistency check");
                    ctx.next();
                })
                .handler(ctx -> bus.read(
                                ScanAddresses.CONSISTENCY_CHECK,
                                new ConsistencyCheck(false, Access.actor(ctx)).toJson())
                        .onSuccess(started -> FilesApi.json(ctx, 202, started))
                        .onFailure(ctx::fail));
    }

    private void tenantStatus(RoutingContext ctx) {
        StatusQuery query = new StatusQuery(
                Access.caller(ctx).tenantFor(ctx.pathParam("user_id")),
                FilesApi.intParam(ctx, "limit", 50),
                ctx.queryParams().get("cursor"));
        bus.read(ScanAddresses.TENANT_STATUS, query.toJson())
                .onSuccess(status -> FilesApi.json(ctx, 200, status))
                .onFailure(ctx::fail);
    }

    private void analyze(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        boolean wait = Bodies.bool(body, "wait", true);
        Integer sample = Bodies.integer(body, "sample_size");
        Object seed = body.getValue("seed");
        if (seed != null
                && !(seed instanceof Integer
                        || seed instanceof Long
                        || (Bodies.wholeNumber(seed) && Math.abs(((Number) seed).doubleValue()) < 0x1p63))) {
            throw new Failure.BadRequest(
                    Bodies.wholeNumber(seed)
                            ? "seed is too large (at most " + Long.MAX_VALUE + ")"
                            : "seed must be a whole number");
        }
        String tenant = Bodies.string(body, "user_id");
        Object mode = body.getValue("mode", "full");
        if (!(mode instanceof String)) {
            throw new Failure.BadRequest("mode must be \"full\", \"deep\" or \"quick\"");
        }
        JsonObject request = new AnalyzeRequest(
                        Access.caller(ctx).tenantFor(tenant),
                        (String) mode,
                        wait,
                        sample,
                        seed == null ? null : ((Number) seed).longValue(),
                        Access.actor(ctx))
                .toJson();
        bus.request(ScanAddresses.ANALYZE, request, scanTimeoutMs)
                .onSuccess(report -> FilesApi.json(ctx, wait ? 200 : 202, report))
                .onFailure(ctx::fail);
    }
}
