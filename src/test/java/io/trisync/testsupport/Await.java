package io.trisync.testsupport;

import java.util.function.BooleanSupplier;

/** Waiting for a condition with a deadline, never for a fixed time. */
public final class Await {

    private Await() {}

    /**
     * Returns as soon as {@code condition} holds, checking every 50 ms; fails with {@code what} once
     * {@code millis} have passed without it. An exception thrown by the condition fails at once.
     */
    public static void until(String what, long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + millis + " ms for " + what);
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
