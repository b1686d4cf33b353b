package io.trisync.ingest;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * New file ids: UUID version 7 (RFC 9562), a millisecond timestamp followed by random bits, so ids
 * sort by creation time and "newest first" is a descending id order.
 */
final class FileIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private FileIds() {}

    static String next() {
        long millis = System.currentTimeMillis();
        long msb = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }
}
