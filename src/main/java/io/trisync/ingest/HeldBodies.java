package io.trisync.ingest;

import io.vertx.core.buffer.Buffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bodies of uploads this process holds in memory while their operation is being completed, by
 * operation: the receiving side lends a body before it asks for the completion and takes it back
 * when the answer comes, whatever it is; a completing step in the same process reads the bytes
 * from here instead of from a spool file or from S3. The same process only: the bytes never travel
 * on the event bus, and a completing step elsewhere downloads the blob.
 */
final class HeldBodies {

    /** An upload's bytes and their SHA-256 (hex), as the receiving side hashed them. */
    record Body(Buffer bytes, String sha256) {}

    private static final Map<String, Body> LENT = new ConcurrentHashMap<>();

    private HeldBodies() {}

    static void lend(String opId, Body body) {
        LENT.put(opId, body);
    }

    /** The body lent for operation {@code opId}, or null. */
    static Body borrow(String opId) {
        return LENT.get(opId);
    }

    static void takeBack(String opId) {
        LENT.remove(opId);
    }
}
