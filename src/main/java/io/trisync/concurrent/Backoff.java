package io.trisync.concurrent;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter (AWS's "full jitter"): the wait before retry {@code step}
 * (1, 2, …) is uniform in [1, min(max, base·2^(step-1))] milliseconds, so callers that failed
 * together do not retry together. Pure but for the random draw.
 */
public final class Backoff {

    private Backoff() {}

    public static long delayMs(long baseMs, long maxMs, int step) {
        long cap = Math.min(maxMs, baseMs << Math.min(20, Math.max(0, step - 1)));
        return 1 + ThreadLocalRandom.current().nextLong(Math.max(1, cap));
    }
}
