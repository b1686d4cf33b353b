package io.trisync.store;

import io.trisync.concurrent.Backoff;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Retries a call that failed with a retriable store error ({@link Failure#retriable()}),
 * with exponential backoff and full jitter; any other failure, and the last retriable one, is
 * passed on unchanged.
 */
public final class Retry {

    private final Vertx vertx;
    private final int attempts;
    private final long baseDelayMs;
    private final long maxDelayMs;

    public Retry(Vertx vertx, int attempts, long baseDelayMs, long maxDelayMs) {
        if (attempts < 1 || baseDelayMs < 1 || maxDelayMs < baseDelayMs) {
            throw new IllegalArgumentException("need attempts >= 1 and 1 <= baseDelayMs <= maxDelayMs");
        }
        this.vertx = vertx;
        this.attempts = attempts;
        this.baseDelayMs = baseDelayMs;
        this.maxDelayMs = maxDelayMs;
    }

    /** The retry of the service's store writes: four attempts, 100 ms doubling to at most 2 s. */
    public static Retry forWrites(Vertx vertx) {
        return new Retry(vertx, 4, 100, 2000);
    }

    /** Runs {@code call}, again after a delay while it fails retriably and attempts remain. */
    public <T> Future<T> run(Supplier<Future<T>> call) {
        return attempt(call, 1);
    }

    /** The delay before attempt {@code next} (2, 3, …): uniform in [0, min(max, base·2^(next-2))]. */
    long delayBefore(int next) {
        return Backoff.delayMs(baseDelayMs, maxDelayMs, next - 1);
    }

    private <T> Future<T> attempt(Supplier<Future<T>> call, int n) {
        return call.get().recover(error -> {
            if (n >= attempts || !(error instanceof Failure s) || !s.retriable()) {
                return Future.failedFuture(error);
            }
            Promise<T> next = Promise.promise();
            vertx.setTimer(delayBefore(n + 1), id -> attempt(call, n + 1).onComplete(next));
            return next.future();
        });
    }
}
