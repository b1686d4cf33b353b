package io.trisync.http;

import io.trisync.failure.Failure;
import io.trisync.store.Buffers;
import io.trisync.store.StoreKeys;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A file's bytes as they stream from S3, checked against the sha256 its record holds, as S3 clients
 * check a download's checksum. Each piece is passed on one piece late, so the last is held until the
 * whole has been hashed: when the hash is the recorded one it goes out and the stream ends; when it
 * is not, the stream fails instead and the answer is cut short, so a client never takes corrupted
 * bytes for the file (a deep scan reports them as {@code CHECKSUM_MISMATCH}). Pausing, resuming and
 * fetching are the source's, so a pipe's back-pressure holds.
 *
 * <p>For a {@code Range} ({@link ByteRange}) the whole is read and hashed all the same and only the
 * range's bytes are passed on, the last of them held until the hash is known: a range is answered
 * only from content that is the file's (see {@link ContentDownload} for when it is read this way).
 */
final class VerifiedContent implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final String expected;
    private final String what;
    private final MessageDigest digest;
    private final ByteRange range;
    private long position;
    private Buffer held;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;

    /** {@code source} checked against {@code sha256} (hex); {@code what} names the content in the failure. */
    VerifiedContent(ReadStream<Buffer> source, String sha256, String what) {
        this(source, sha256, what, null);
    }

    /** As above, passing on only the bytes of {@code range} (null: all of them). */
    VerifiedContent(ReadStream<Buffer> source, String sha256, String what, ByteRange range) {
        this.source = source;
        this.expected = sha256;
        this.what = what;
        this.digest = StoreKeys.sha256Digest();
        this.range = range;
    }

    /** Whether {@code sha256} is a hash this stream can check ({@link StoreKeys#sha256Hex}'s form). */
    static boolean checkable(String sha256) {
        return sha256 != null && sha256.matches("[0-9a-f]{64}");
    }

    @Override
    public VerifiedContent handler(Handler<Buffer> handler) {
        this.handler = handler;
        if (handler == null) {
            source.handler(null);
            return this;
        }
        source.handler(piece -> {
            digest.update(Buffers.view(piece));
            Buffer passed = inRange(piece);
            if (passed == null) {
                return;
            }
            Buffer previous = held;
            held = passed;
            if (previous != null) {
                this.handler.handle(previous);
            }
        });
        return this;
    }

    @Override
    public VerifiedContent endHandler(Handler<Void> endHandler) {
        this.endHandler = endHandler;
        source.endHandler(endHandler == null ? null : v -> end());
        return this;
    }

    @Override
    public VerifiedContent exceptionHandler(Handler<Throwable> handler) {
        this.exceptionHandler = handler;
        source.exceptionHandler(handler);
        return this;
    }

    /** The part of {@code piece} within the range (all of it without one); null when none is. */
    private Buffer inRange(Buffer piece) {
        long start = position;
        position += piece.length();
        if (range == null) {
            return piece;
        }
        long from = Math.max(range.first(), start);
        long to = Math.min(range.last() + 1, position);
        if (from >= to) {
            return null;
        }
        return from == start && to == position ? piece : piece.getBuffer((int) (from - start), (int) (to - start));
    }

    private void end() {
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(expected)) {
            held = null;
            if (exceptionHandler != null) {
                exceptionHandler.handle(new Failure.ContentDamaged("the bytes of " + what + " read from S3 hash to "
                        + actual + ", not the recorded " + expected + " (CHECKSUM_MISMATCH): they are not sent; a deep"
                        + " scan reports it and a fix restores a known version"));
            }
            return;
        }
        if (held != null && handler != null) {
            Buffer last = held;
            held = null;
            handler.handle(last);
        }
        endHandler.handle(null);
    }

    @Override
    public VerifiedContent pause() {
        source.pause();
        return this;
    }

    @Override
    public VerifiedContent resume() {
        source.resume();
        return this;
    }

    @Override
    public VerifiedContent fetch(long amount) {
        source.fetch(amount);
        return this;
    }
}
