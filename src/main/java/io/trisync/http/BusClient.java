package io.trisync.http;

import io.trisync.bus.ClusterBus;
import io.trisync.bus.ClusterBus.Target;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Event-bus requests from HTTP handlers, each with a send timeout; failures keep their codes for
 * {@link FailureHandler}. A request goes to this node when it serves the address (an operation runs
 * where its request came in), else to any node that does. A {@link #read} is sent again elsewhere
 * when its node leaves the cluster before answering; a {@link #request} that changes something fails
 * with a retriable 503 then.
 */
final class BusClient {

    private final ClusterBus bus;
    private final long timeoutMs;

    BusClient(ClusterBus bus, long timeoutMs) {
        this.bus = bus;
        this.timeoutMs = timeoutMs;
    }

    /** A request that changes something. */
    Future<JsonObject> request(String address, JsonObject body) {
        return request(address, body, timeoutMs);
    }

    Future<JsonObject> request(String address, JsonObject body, long timeout) {
        return bus.request(address, body, timeout, Target.LOCAL_FIRST, false);
    }

    /** A request that only reads. */
    Future<JsonObject> read(String address, JsonObject body) {
        return bus.request(address, body, timeoutMs, Target.LOCAL_FIRST, true);
    }
}
