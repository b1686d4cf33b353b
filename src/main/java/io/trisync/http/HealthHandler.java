package io.trisync.http;

import io.trisync.store.Stores;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;

/**
 * {@code GET /health}: 200 {@code {"status": "UP", "node": …, "stores": {…}, "embedding": {…}}} when
 * all three stores answer and the node's embedding model fits the collections, 503 with {@code
 * "status": "DOWN"} and each store's state when any does not, or with {@code "embedding": {"status":
 * "OUTDATED", "error": …}} for a node left on a model the collections no longer hold (its uploads
 * are refused: a load balancer should send it none, and it should be restarted with the serving
 * model); {@code auth} says whether the API needs a token.
 */
public final class HealthHandler implements Handler<RoutingContext> {

    private final Stores stores;
    private final String nodeId;
    private final boolean authOn;

    /** {@code authOn}: whether the API needs tokens ({@code "auth": "on"}), so the admin UI knows to ask for one. */
    public HealthHandler(Stores stores, String nodeId, boolean authOn) {
        this.stores = stores;
        this.nodeId = nodeId;
        this.authOn = authOn;
    }

    @Override
    public void handle(RoutingContext ctx) {
        stores.health().onComplete(done -> {
            JsonObject states = done.result();
            String outdated = stores.vectors().outdatedModel();
            boolean up = outdated == null
                    && states.stream().allMatch(e -> "UP".equals(((JsonObject) e.getValue()).getString("status")));
            Answers.end(
                    ctx.response()
                            .setStatusCode(up ? 200 : 503)
                            .putHeader("Content-Type", "application/json")
                            .putHeader("Cache-Control", "no-store"),
                    new JsonObject()
                            .put("status", up ? "UP" : "DOWN")
                            .put("node", nodeId)
                            .put("auth", authOn ? "on" : "off")
                            .put("stores", states)
                            .put(
                                    "embedding",
                                    outdated == null
                                            ? new JsonObject().put("status", "UP")
                                            : new JsonObject()
                                                    .put("status", "OUTDATED")
                                                    .put("error", outdated))
                            .put("timestamp", Instant.now().toString())
                            .encode());
        });
    }
}
