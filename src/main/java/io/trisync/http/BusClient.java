package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/** Event-bus requests from HTTP handlers, each with a send timeout; failures keep their codes for {@link FailureHandler}. */
final class BusClient {

    private final EventBus bus;
    private final long timeoutMs;

    BusClient(EventBus bus, long timeoutMs) {
        this.bus = bus;
        this.timeoutMs = timeoutMs;
    }

    Future<JsonObject> request(String address, JsonObject body) {
        return request(address, body, timeoutMs);
    }

    Future<JsonObject> request(String address, JsonObject body, long timeout) {
        return bus.<JsonObject>request(address, body, new DeliveryOptions().setSendTimeout(timeout))
                .map(reply -> reply.body())
                .recover(e -> Future.failedFuture(Failure.naming(address, e)));
    }
}
