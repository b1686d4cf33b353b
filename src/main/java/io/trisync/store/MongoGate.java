package io.trisync.store;

import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.ext.mongo.MongoClient;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A breaker in front of the one MongoDB client every adapter shares. Without it, a MongoDB outage
 * costs every call the driver's server-selection timeout (seconds); with it, the first call that
 * finds MongoDB unreachable marks it down, and then every call fails at once with {@link
 * Failure.Unavailable} except one every {@link Failure#RETRY_AFTER_SECONDS} seconds, which goes
 * through as a probe: when it succeeds, MongoDB is up again for everyone. {@code /health} answers from
 * the same state, so it is fast during an outage too. Every call is timed on the way
 * ({@code trisync_store_request_duration_seconds{store="mongodb"}}, by the client's method).
 */
final class MongoGate {

    private static final long PROBE_MILLIS = Failure.RETRY_AFTER_SECONDS * 1000L;

    /** 0 while MongoDB is believed up; else when the next probe may go. */
    private final AtomicLong nextProbe = new AtomicLong();

    private MongoGate() {}

    /** {@code client}, with every call that returns a {@code Future} passed through the gate. */
    static MongoClient around(MongoClient client, Metrics metrics) {
        MongoGate gate = new MongoGate();
        return (MongoClient) Proxy.newProxyInstance(
                MongoClient.class.getClassLoader(), new Class<?>[] {MongoClient.class}, (proxy, method, args) -> {
                    if (method.getReturnType() != Future.class
                            || method.getName().equals("close")) {
                        return invoke(client, method, args);
                    }
                    if (!gate.mayPass()) {
                        return Future.failedFuture(new Failure.Unavailable(
                                "mongodb", "unreachable (retry in " + Failure.RETRY_AFTER_SECONDS + "s)", null));
                    }
                    long start = System.nanoTime();
                    Future<?> result;
                    try {
                        result = (Future<?>) invoke(client, method, args);
                    } catch (RuntimeException e) {
                        return Future.failedFuture(e);
                    }
                    return result.andThen(done -> {
                        boolean unreachable = done.failed()
                                && MongoMetadataStore.translate(done.cause()) instanceof Failure.Unavailable;
                        gate.saw(unreachable);
                        metrics.storeRequest("mongodb", method.getName(), System.nanoTime() - start, unreachable);
                    });
                });
    }

    private static Object invoke(MongoClient client, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(client, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Whether a call may go to MongoDB now: it is up, or this call is the due probe. */
    boolean mayPass() {
        long next = nextProbe.get();
        if (next == 0) {
            return true;
        }
        long now = System.currentTimeMillis();
        return now >= next && nextProbe.compareAndSet(next, now + PROBE_MILLIS);
    }

    /** What a call that went through found: MongoDB unreachable, or answering. */
    void saw(boolean unreachable) {
        if (unreachable) {
            nextProbe.accumulateAndGet(
                    System.currentTimeMillis() + PROBE_MILLIS, (old, fresh) -> old == 0 ? fresh : old);
        } else {
            nextProbe.set(0);
        }
    }
}
