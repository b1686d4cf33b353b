package io.trisync.concurrent;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A check that must be made before every write of a key (is the tenant being erased?) and almost
 * always answers "clear", made once per key per lease instead: a "clear" answer serves every caller
 * for {@code lease} from the moment its read <em>started</em>, and callers that come while a read is
 * in flight share it. A "blocked" answer and a failed read are never kept. Whoever blocks a key must
 * therefore wait {@code lease} after its block is stored before it relies on no write getting past
 * the check, as a lease holder's reads stay valid until the lease ends (Gray and Cheriton's leases);
 * {@link #forget} lets the blocker's own process see the block at once.
 */
public final class ReadLease<K> {

    /** Keys kept before the expired ones are swept out. */
    static final int SWEEP_ABOVE = 10_000;

    private final long leaseNanos;
    private final LongSupplier nanoClock;
    private final Function<K, Future<Boolean>> read;
    private final ConcurrentHashMap<K, Entry> entries = new ConcurrentHashMap<>();

    /** A read and when it started. */
    private record Entry(long startedNanos, Future<Boolean> blocked) {}

    /**
     * @param lease how long a "clear" answer stands, from when its read started
     * @param nanoClock a monotonic clock ({@code System::nanoTime})
     * @param read whether the key is blocked now
     */
    public ReadLease(Duration lease, LongSupplier nanoClock, Function<K, Future<Boolean>> read) {
        this.leaseNanos = lease.toNanos();
        this.nanoClock = nanoClock;
        this.read = read;
    }

    /** Whether {@code key} is blocked: read now, or a read that started less than a lease ago. */
    public Future<Boolean> blocked(K key) {
        long now = nanoClock.getAsLong();
        Entry kept = entries.get(key);
        if (kept != null
                && now - kept.startedNanos() < leaseNanos
                && !kept.blocked().failed()) {
            if (!kept.blocked().isComplete() || !kept.blocked().result()) {
                return kept.blocked();
            }
        }
        if (entries.size() > SWEEP_ABOVE) {
            entries.values().removeIf(e -> now - e.startedNanos() >= leaseNanos);
        }
        Future<Boolean> blocked = read.apply(key);
        Entry fresh = new Entry(now, blocked);
        entries.put(key, fresh);
        blocked.onComplete(answer -> {
            if (answer.failed() || answer.result()) {
                entries.remove(key, fresh);
            }
        });
        return blocked;
    }

    /** Drops what is kept of {@code key}: the next check reads. */
    public void forget(K key) {
        entries.remove(key);
    }
}
