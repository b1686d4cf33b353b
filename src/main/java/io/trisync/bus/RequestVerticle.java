package io.trisync.bus;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A verticle that answers event-bus requests: {@link #consume} registers a handler under the one
 * failure policy of {@link Requests}, {@link #consumersReady} completes once every registration has
 * reached the cluster, and {@link #stop} unregisters them all. Subclasses that own more (timers,
 * listeners, pools) override {@link #stop} and end with {@code super.stop()}.
 */
public abstract class RequestVerticle extends VerticleBase {

    private final List<ClusterBus.Serving> served = new ArrayList<>();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

    /** Answers JSON requests on {@code address} with {@code handler} (reachable through {@link ClusterBus}). */
    protected final void consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
        served.add(ClusterBus.of(vertx).serve(address, handler));
    }

    /** Takes one-way messages (sent or published, no reply) on {@code address}. */
    protected final void listen(String address, Consumer<JsonObject> handler) {
        consumers.add(vertx.eventBus().<JsonObject>consumer(address, message -> handler.accept(message.body())));
    }

    /** Completes when every handler registered so far is known to the cluster. */
    protected final Future<Void> consumersReady() {
        List<Future<Void>> all = new ArrayList<>();
        served.forEach(s -> all.add(s.ready()));
        consumers.forEach(c -> all.add(c.completion()));
        return Future.all(all).mapEmpty();
    }

    @Override
    public Future<?> stop() {
        List<Future<Void>> all = new ArrayList<>();
        served.forEach(s -> all.add(s.close()));
        all.add(ClusterBus.unregistered(consumers));
        return Future.join(all);
    }
}
