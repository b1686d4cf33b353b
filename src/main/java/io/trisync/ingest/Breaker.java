package io.trisync.ingest;

import io.trisync.failure.Failure;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which store was last found unavailable, so new uploads fail fast with 503 while it stays
 * down instead of each waiting through its retries. A store counts as down for {@code openMillis}
 * after its last {@link Failure.Unavailable}; then the next upload tries it again (and opens
 * the breaker anew if it is still down).
 */
final class Breaker {

    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    private final long openMillis;
    private final Clock clock;

    Breaker(long openMillis, Clock clock) {
        this.openMillis = openMillis;
        this.clock = clock;
    }

    /** Notes a failure; only {@link Failure.Unavailable} opens the breaker. */
    void record(Throwable failure) {
        if (failure instanceof Failure.Unavailable u) {
            downUntil.put(u.source(), clock.millis() + openMillis);
        }
    }

    /** A store still counted as down, or null when all are believed up. */
    String openStore() {
        long now = clock.millis();
        for (Map.Entry<String, Long> e : downUntil.entrySet()) {
            if (e.getValue() > now) {
                return e.getKey();
            }
        }
        return null;
    }

    /** Seconds until the breaker of {@code store} closes by itself (at least 1). */
    long retryAfterSeconds(String store) {
        Long until = downUntil.get(store);
        return until == null ? 1 : Math.max(1, (until - clock.millis() + 999) / 1000);
    }
}
