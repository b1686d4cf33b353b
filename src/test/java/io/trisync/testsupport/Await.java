package io.trisync.testsupport;

import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline, never for a fixed time. */
public final class Await {

    private Await() {}

    /**
     * Returns as soon as {@code condition} holds, checking every 50 ms; fails with {@code what} once
     * {@code millis} have passed without it. An exception thrown by the condition fails at once.
     */
    public static void until(String what, long millis, BooleanSupplier condition) {
        value(what, millis, condition::getAsBoolean, Boolean::booleanValue);
    }

    /**
     * Reads {@code probe} every 50 ms until {@code done} accepts what it read, and returns that; fails
     * with {@code what} (and the last value read) once {@code millis} have passed without it. An
     * exception thrown by the probe fails at once.
     */
    public static <T> T value(String what, long millis, Supplier<T> probe, Predicate<? super T> done) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (true) {
            T value = probe.get();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + millis + " ms for " + what + " (last: " + value + ")");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
