package io.trisync.testsupport;

import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline, never for a fixed time. */
public final class Await {

    private Await() {}

    /**
     * The first pause between reads, and the longest: the pause grows by half after each read, so a
     * short wait answers within milliseconds while a long one (a node starting, a lease running out)
     * does not spend the shared cores on reads every few milliseconds.
     */
    private static final long FIRST_PAUSE_MS = 10;

    private static final long LONGEST_PAUSE_MS = 250;

    /**
     * Returns as soon as {@code condition} holds, checked at growing intervals of up to 250 ms; fails with {@code what} once
     * {@code millis} have passed without it. An exception thrown by the condition fails at once.
     */
    public static void until(String what, long millis, BooleanSupplier condition) {
        value(what, millis, condition::getAsBoolean, Boolean::booleanValue);
    }

    /**
     * Reads {@code probe} at growing intervals of up to 250 ms until {@code done} accepts what it read, and returns that; fails
     * with {@code what} (and the last value read) once {@code millis} have passed without it. An
     * exception thrown by the probe fails at once.
     */
    public static <T> T value(String what, long millis, Supplier<T> probe, Predicate<? super T> done) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        long pause = FIRST_PAUSE_MS;
        while (true) {
            T value = probe.get();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + millis + " ms for " + what + " (last: " + value + ")");
            }
            try {
                Thread.sleep(pause);
                pause = Math.min(LONGEST_PAUSE_MS, pause + pause / 2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
