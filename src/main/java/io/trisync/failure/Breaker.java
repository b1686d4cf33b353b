package io.trisync.failure;

import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which store (or service) was last found unavailable, so new calls fail fast with 503 while it stays
 * down instead of each waiting through its retries. Half-open, as circuit breakers go: while a store
 * is counted as down, one upload every {@link Failure#RETRY_AFTER_SECONDS} seconds is let through to
 * probe it ({@link #check}); a probe that reaches the store closes the breaker at once, so uploads
 * succeed again within that interval of the store's return rather than after a fixed open period.
 * The holder may also ping the {@link #open} stores itself and close the breaker when one answers,
 * so the first upload after a store's return need not wait for its probe. Pure: the clock is given,
 * the probe is the caller's.
 */
public final class Breaker {

    /** What an upload may do now: {@code store} null: go ahead; else refuse, or ({@code probe}) try it. */
    public record Decision(String store, boolean probe) {
        public static final Decision GO = new Decision(null, false);
    }

    private final Map<String, Long> nextProbe = new ConcurrentHashMap<>();
    private final long probeMillis;
    private final Clock clock;

    public Breaker(long probeMillis, Clock clock) {
        this.probeMillis = probeMillis;
        this.clock = clock;
    }

    /** Notes a failure; only a {@link Failure.Unavailable} that names its store opens the breaker. */
    public void record(Throwable failure) {
        if (failure instanceof Failure.Unavailable u && u.source() != null) {
            nextProbe.put(u.source(), clock.millis() + probeMillis);
        }
    }

    /** The stores counted as down now. */
    public Set<String> open() {
        return Set.copyOf(nextProbe.keySet());
    }

    /** The store answered: it is no longer counted as down. */
    public void closed(String store) {
        nextProbe.remove(store);
    }

    /**
     * Whether an upload may proceed: all stores believed up; or a store is down and this caller
     * takes its due probe (the next one is due an interval later); or it is down and the caller is
     * refused.
     */
    public synchronized Decision check() {
        Iterator<Map.Entry<String, Long>> open = nextProbe.entrySet().iterator();
        if (!open.hasNext()) {
            return Decision.GO;
        }
        // One store down is enough to refuse; it is the one probed.
        Map.Entry<String, Long> down = open.next();
        long now = clock.millis();
        if (down.getValue() > now) {
            return new Decision(down.getKey(), false);
        }
        down.setValue(now + probeMillis);
        return new Decision(down.getKey(), true);
    }
}
