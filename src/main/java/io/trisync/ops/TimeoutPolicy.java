package io.trisync.ops;

import io.trisync.config.TrisyncConfig;

/**
 * An operation's expected duration: {@code base + files × perFile}, clamped to {@code [min, max]}
 * seconds (the adaptive timeout of docs/design.md, "Tracked operations"). Pure.
 */
public record TimeoutPolicy(long baseSeconds, long perFileSeconds, long minSeconds, long maxSeconds) {

    public TimeoutPolicy {
        if (minSeconds > maxSeconds || baseSeconds < 0 || perFileSeconds < 0) {
            throw new IllegalArgumentException("need 0 <= base, 0 <= perFile, min <= max");
        }
    }

    public static TimeoutPolicy of(TrisyncConfig.SyncConfig sync) {
        return new TimeoutPolicy(
                sync.baseTimeoutSeconds(),
                sync.perFileTimeoutSeconds(),
                sync.minTimeoutSeconds(),
                sync.maxTimeoutSeconds());
    }

    /** Expected seconds for an operation over {@code files} files (negative counts as 0). */
    public long expectedSeconds(long files) {
        long n = Math.max(0, files);
        long raw = n > (Long.MAX_VALUE - baseSeconds) / Math.max(1, perFileSeconds)
                ? Long.MAX_VALUE
                : baseSeconds + n * perFileSeconds;
        return Math.max(minSeconds, Math.min(maxSeconds, raw));
    }
}
