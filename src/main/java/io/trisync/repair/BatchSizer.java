package io.trisync.repair;

/**
 * The adaptive batch size of a re-index: how many files the next batch takes, from how long the last
 * one took against the target latency. Doubles while batches take under half the target, halves
 * when one takes over one and a half times it, stays otherwise; always within {@code [min, max]}.
 * Multiplicative both ways, so it settles within a few batches and backs off at once when the
 * embedding service slows down. Pure.
 */
public final class BatchSizer {

    private final long targetMillis;
    private final int min;
    private final int max;
    private int size;

    public BatchSizer(long targetMillis, int min, int max, int initial) {
        if (min < 1 || max < min) {
            throw new IllegalArgumentException("need 1 <= min <= max");
        }
        this.targetMillis = targetMillis;
        this.min = min;
        this.max = max;
        this.size = Math.max(min, Math.min(max, initial));
    }

    /** The size of the next batch. */
    public int size() {
        return size;
    }

    /** A batch of {@code files} files took {@code millis}: the next size. */
    public int took(int files, long millis) {
        if (files < size) {
            // A short batch (the partition's end) says nothing about a full one.
            return size;
        }
        if (millis * 2 < targetMillis) {
            size = Math.min(max, size * 2);
        } else if (millis * 2 > targetMillis * 3) {
            size = Math.max(min, size / 2);
        }
        return size;
    }
}
