package io.trisync.http;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Whether a request body still arrives fast enough to keep its connection. Two limits, checked on
 * every tick of {@link TimeLimits}' watch: a body that stops arriving for the idle timeout (a stall),
 * and one that arrives slower than a minimum rate over a sliding window (a trickle: a byte every few
 * seconds, each within the idle timeout, held its connection and request for as long as the client
 * went on, as nginx's {@code client_body_timeout} alone would). The rate is counted over the last
 * window only, so a body that began fast and then trickles is cut as well, and not before a window
 * has passed since the body began (the grace a slow start, a 100-continue, a TCP ramp-up take). Time
 * while the server itself does not read (its own backpressure: a spool file that writes slowly) is
 * not held against the client: the window starts again after it. Pure arithmetic on the times and
 * byte counts it is given, so it is tested without a clock.
 */
final class BodyPace {

    private record Sample(long nanos, long bytes) {}

    private final long idleNanos;
    private final long minBytesPerSecond;
    private final long windowNanos;
    /** Byte counts of past ticks, oldest first: the oldest is the newest one at least a window old. */
    private final Deque<Sample> samples = new ArrayDeque<>();

    private long lastBytes;
    private long lastMove;

    /**
     * A body watched from {@code nanos}, when {@code bytes} had been read; {@code minBytesPerSecond} 0
     * sets no minimum rate.
     */
    BodyPace(long idleMs, long minBytesPerSecond, long windowMs, long nanos, long bytes) {
        this.idleNanos = idleMs * 1_000_000;
        this.minBytesPerSecond = minBytesPerSecond;
        this.windowNanos = windowMs * 1_000_000;
        this.lastBytes = bytes;
        this.lastMove = nanos;
        samples.add(new Sample(nanos, bytes));
    }

    /**
     * Why the body must be refused at {@code nanos}, having read {@code bytes} in all by then, or null
     * while it arrives fast enough; {@code reading}: whether the server was reading the connection
     * (false while its own backpressure stopped it).
     */
    String check(long nanos, long bytes, boolean reading) {
        if (bytes != lastBytes) {
            lastBytes = bytes;
            lastMove = nanos;
        } else if (nanos - lastMove >= idleNanos) {
            return "the request body stopped arriving (" + bytes + " bytes read)";
        }
        if (!reading) {
            samples.clear();
        }
        samples.addLast(new Sample(nanos, bytes));
        while (samples.size() > 1 && nanos - secondOldest().nanos() >= windowNanos) {
            samples.removeFirst();
        }
        Sample base = samples.getFirst();
        long spanNanos = nanos - base.nanos();
        if (minBytesPerSecond == 0 || spanNanos < windowNanos) {
            return null;
        }
        long arrived = bytes - base.bytes();
        if (arrived * 1_000_000_000.0 >= minBytesPerSecond * (double) spanNanos) {
            return null;
        }
        return "the request body arrived too slowly: " + arrived + " bytes in the last "
                + Math.round(spanNanos / 1e9) + " s, where at least " + minBytesPerSecond
                + " bytes a second are needed (" + bytes + " bytes read)";
    }

    private Sample secondOldest() {
        var it = samples.iterator();
        it.next();
        return it.next();
    }
}
