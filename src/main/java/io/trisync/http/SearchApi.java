package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.search.SearchAddresses;
import io.trisync.search.SearchMessages.SearchRequest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code POST /api/search} {@code {"user_id"?, "query", "limit"?: 10, "file_ids"?, "content_types"?}}:
 * the caller's tenant's files that best match the query, one result each, only those the three
 * stores agree on ({@code excluded} counts the others). A tenant token searches its own tenant
 * whatever the body says; an admin names the tenant.
 */
public final class SearchApi {

    private final BusClient bus;

    public SearchApi(Vertx vertx, long requestTimeoutMs) {
        this.bus = new BusClient(ClusterBus.of(vertx), requestTimeoutMs);
    }

    public void mount(Router router) {
        Bodies.post(router, "/api/search", BodyHandler.create().setBodyLimit(64 * 1024))
                .handler(this::search);
    }

    private void search(RoutingContext ctx) {
        JsonObject body = Bodies.object(ctx);
        Integer limit = Bodies.integer(body, "limit");
        SearchRequest request = new SearchRequest(
                Access.caller(ctx).tenantFor(Bodies.string(body, "user_id")),
                Bodies.string(body, "query"),
                limit == null ? 10 : limit,
                SearchRequest.strings(Bodies.list(body, "file_ids"), "file_ids"),
                SearchRequest.strings(Bodies.list(body, "content_types"), "content_types"));
        bus.read(SearchAddresses.QUERY, request.toJson())
                .onSuccess(reply -> FilesApi.json(ctx, 200, reply))
                .onFailure(ctx::fail);
    }
}
