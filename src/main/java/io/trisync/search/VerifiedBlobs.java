package io.trisync.search;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which blobs a search found matching their records' ETags, and when: a result whose blob was
 * checked less than {@code recheckMillis} ago with the ETag its record still names is not HEADed
 * again. A record that names another ETag (the file got new content through trisync) misses, and a
 * blob found different is never remembered, so the bound applies only to content replaced behind
 * trisync's back, which a search then notices within {@code recheckMillis} (and a scan at its next
 * pass). Bounded: the least recently used entries go past {@code capacity}. Pure: the clock is given.
 */
final class VerifiedBlobs {

    private record Check(String etag, long atMillis) {}

    private final long recheckMillis;
    private final Map<String, Check> checks;

    VerifiedBlobs(long recheckMillis, int capacity) {
        this.recheckMillis = recheckMillis;
        this.checks = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Check> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Whether the blob at {@code key} was found holding {@code etag} less than the recheck period ago. */
    synchronized boolean fresh(String key, String etag, long nowMillis) {
        if (recheckMillis <= 0) {
            return false;
        }
        Check c = checks.get(key);
        return c != null && c.etag().equals(etag) && nowMillis - c.atMillis() < recheckMillis;
    }

    /** A HEAD found the blob at {@code key} holding {@code etag}, its record's. */
    synchronized void matched(String key, String etag, long nowMillis) {
        if (recheckMillis > 0) {
            checks.put(key, new Check(etag, nowMillis));
        }
    }

    /** A HEAD found the blob at {@code key} missing or different: it must be checked every time. */
    synchronized void differed(String key) {
        checks.remove(key);
    }
}
