package io.trisync.store;

import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A breaker in front of the one MongoDB client every adapter shares. Without it, a MongoDB outage
 * costs every call the driver's server-selection timeout (seconds); with it, the first call that
 * finds MongoDB unreachable marks it down, and then every call fails at once with {@link
 * Failure.Unavailable} while the gate itself pings MongoDB, one ping after another {@link
 * #PROBE_PAUSE_MILLIS} apart. The ping that gets an answer opens the gate for everyone, so requests
 * succeed again within about a second of MongoDB's return (a ping waiting in server selection when
 * MongoDB comes back is answered as soon as the driver reconnects). {@code /health} answers from the
 * same state, so it is fast during an outage too. Every call is timed on the way
 * ({@code trisync_store_request_duration_seconds{store="mongodb"}}, by the client's method).
 */
final class MongoGate {

    /** The pause between one failed ping and the next while MongoDB is down. */
    static final long PROBE_PAUSE_MILLIS = 250;

    private final Vertx vertx;
    private final MongoClient client;

    /** Whether MongoDB is believed down (and the gate is pinging it). */
    private final AtomicBoolean down = new AtomicBoolean();

    /** Set when the client is closed: the pings stop. */
    private volatile boolean closed;

    /**
     * Where the pings run: a context of the gate's own, so that they do not belong to the verticle
     * whose call first found MongoDB down (undeploying it would cancel their timer and leave the gate
     * shut for good).
     */
    private final Context context;

    private MongoGate(Vertx vertx, MongoClient client) {
        this.vertx = vertx;
        this.client = client;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
    }

    /** {@code client}, with every call that returns a {@code Future} passed through the gate. */
    static MongoClient around(Vertx vertx, MongoClient client, Metrics metrics) {
        MongoGate gate = new MongoGate(vertx, client);
        return (MongoClient) Proxy.newProxyInstance(
                MongoClient.class.getClassLoader(), new Class<?>[] {MongoClient.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        gate.closed = true;
                    }
                    if (method.getReturnType() != Future.class
                            || method.getName().equals("close")) {
                        return invoke(client, method, args);
                    }
                    if (gate.closed) {
                        return Future.failedFuture(stopping());
                    }
                    if (gate.down.get()) {
                        return Future.failedFuture(new Failure.Unavailable(
                                "mongodb", "unreachable (retry in " + Failure.RETRY_AFTER_SECONDS + "s)", null));
                    }
                    long start = System.nanoTime();
                    Future<?> result;
                    try {
                        result = (Future<?>) invoke(client, method, args);
                    } catch (RuntimeException e) {
                        return Future.failedFuture(gate.closed ? stopping() : e);
                    }
                    return result.recover(error -> Future.failedFuture(gate.closed ? stopping() : error))
                            .andThen(done -> {
                                boolean unreachable = done.failed()
                                        && MongoErrors.translate(done.cause()) instanceof Failure.Unavailable;
                                if (unreachable) {
                                    gate.markDown();
                                }
                                metrics.storeRequest(
                                        "mongodb", method.getName(), System.nanoTime() - start, unreachable);
                            });
                });
    }

    /**
     * What a call made on a closed client, or still in flight when it closed, fails with: the node is
     * stopping (the driver itself answers such a call with an {@code IllegalStateException}, which
     * would count as a bug and log a stack trace at every shutdown that finds work in flight).
     */
    private static Failure.Unavailable stopping() {
        return new Failure.Unavailable("mongodb", "client closed: this node is stopping", null);
    }

    /** The first call to find MongoDB unreachable closes the gate and starts the pings. */
    private void markDown() {
        if (down.compareAndSet(false, true)) {
            context.runOnContext(v -> probe());
        }
    }

    private void probe() {
        if (closed) {
            return;
        }
        client.runCommand("ping", new JsonObject().put("ping", 1)).onComplete(ping -> {
            if (ping.succeeded() || !(MongoErrors.translate(ping.cause()) instanceof Failure.Unavailable)) {
                down.set(false);
            } else {
                vertx.setTimer(PROBE_PAUSE_MILLIS, id -> probe());
            }
        });
    }

    private static Object invoke(MongoClient client, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(client, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
