package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.ingest.IngestAddresses;
import io.trisync.ingest.IngestMessages.EraseTenant;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * Tenants as a whole (admin only): {@code DELETE /api/tenants/{tenant_id}} erases one from the three
 * stores (202 with its tracked operation, kind {@code erase}); {@code GET /api/tenants/{tenant_id}}
 * shows the erasure's state and result.
 */
public final class TenantsApi {

    private final BusClient bus;

    public TenantsApi(Vertx vertx, long timeoutMs) {
        this.bus = new BusClient(ClusterBus.of(vertx), timeoutMs);
    }

    public void mount(Router router) {
        router.delete("/api/tenants/:tenant_id").handler(ctx -> {
            Access.caller(ctx).requireAdmin("erasing a tenant");
            bus.request(IngestAddresses.ERASE, new EraseTenant(ctx.pathParam("tenant_id"), Access.actor(ctx)).toJson())
                    .onSuccess(op -> FilesApi.json(ctx, 202, op))
                    .onFailure(ctx::fail);
        });
        router.get("/api/tenants/:tenant_id").handler(ctx -> {
            Access.caller(ctx).requireAdmin("a tenant's erasure");
            bus.read(IngestAddresses.ERASURE, new EraseTenant(ctx.pathParam("tenant_id"), null).toJson())
                    .onSuccess(state -> FilesApi.json(ctx, 200, state))
                    .onFailure(ctx::fail);
        });
    }
}
