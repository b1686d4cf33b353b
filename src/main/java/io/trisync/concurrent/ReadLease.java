package io.trisync.concurrent;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
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

    /** Twice in a row, a read answered "clear" only after its lease had run out. */
    public static final class TooSlow extends RuntimeException {
        TooSlow(Duration lease) {
            super("a read took longer than its lease of " + lease.toMillis() + " ms, twice");
        }
    }

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

    /**
     * Whether {@code key} is blocked: read now, or a read that started less than a lease ago. A
     * "clear" that arrives a lease or more after its read started is stale by then: the key is read
     * once more, and a second stale answer fails the check with {@link TooSlow} (the store answers
     * too slowly to vouch for anything). Completes on the caller's own context (a shared
     * read's future belongs to whoever started it).
     */
    public Future<Boolean> blocked(K key) {
        ContextInternal context = (ContextInternal) Vertx.currentContext();
        Promise<Boolean> mine = context == null ? Promise.promise() : context.promise();
        check(key, true).onComplete(mine);
        return mine.future();
    }

    private Future<Boolean> check(K key, boolean again) {
        Entry entry = entry(key);
        return entry.blocked().compose(blocked -> {
            if (blocked || nanoClock.getAsLong() - entry.startedNanos() < leaseNanos) {
                return Future.succeededFuture(blocked);
            }
            return again ? check(key, false) : Future.failedFuture(new TooSlow(Duration.ofNanos(leaseNanos)));
        });
    }

    /** The read a check of {@code key} relies on: one that started less than a lease ago, or a new one. */
    private Entry entry(K key) {
        long now = nanoClock.getAsLong();
        Entry kept = entries.get(key);
        if (kept != null
                && now - kept.startedNanos() < leaseNanos
                && !kept.blocked().failed()) {
            if (!kept.blocked().isComplete() || !kept.blocked().result()) {
                return kept;
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
        return fresh;
    }

    /** Drops what is kept of {@code key}: the next check reads. */
    public void forget(K key) {
        entries.remove(key);
    }
}
