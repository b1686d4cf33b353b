package io.trisync.testsupport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Load for a kill test: {@code clients} loops on a Vert.x context, each sending its next request as its
 * last one ends, until the test's condition holds; then the kill, and the loops stop once the requests
 * the kill cut short have ended.
 */
public final class LoadUntilKill {

    private LoadUntilKill() {}

    /**
     * Runs the loops of {@code request}, waits up to {@code timeoutMs} for {@code enough} ({@code what}
     * names it in the failure), runs {@code kill}, and returns once every loop has stopped.
     */
    public static void run(
            Vertx vertx,
            int clients,
            Supplier<Future<?>> request,
            String what,
            long timeoutMs,
            BooleanSupplier enough,
            Runnable kill) {
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicInteger running = new AtomicInteger(clients);
        Promise<Void> drained = Promise.promise();
        vertx.runOnContext(v -> {
            for (int i = 0; i < clients; i++) {
                loop(request, stopped, running, drained);
            }
        });
        Await.until(what, timeoutMs, enough);
        kill.run();
        stopped.set(true);
        drained.future().await();
    }

    private static void loop(
            Supplier<Future<?>> request, AtomicBoolean stopped, AtomicInteger running, Promise<Void> drained) {
        if (stopped.get()) {
            if (running.decrementAndGet() == 0) {
                drained.complete();
            }
            return;
        }
        request.get().onComplete(r -> loop(request, stopped, running, drained));
    }
}
