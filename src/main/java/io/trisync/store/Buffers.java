package io.trisync.store;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A file's bytes held once: a Vert.x {@link Buffer} around an array without copying it ({@code
 * Buffer.buffer(byte[])} copies), and a view of a buffer's bytes for code that takes no
 * Vert.x types (text extraction, hashing), again without a copy ({@code Buffer.getBytes()} copies).
 */
public final class Buffers {

    private static final int PIECE = 64 * 1024;

    private Buffers() {}

    /** A buffer over {@code bytes} itself: the caller no longer writes to the array. */
    public static Buffer wrap(byte[] bytes) {
        return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes));
    }

    /** The bytes of {@code buffer} as a view sharing its memory, to be read and never written. */
    public static ByteBuffer view(Buffer buffer) {
        if (buffer instanceof BufferInternal internal) {
            return internal.getByteBuf().nioBuffer();
        }
        return ByteBuffer.wrap(buffer.getBytes());
    }

    /** The SHA-256 (hex) of {@code buffer}'s bytes, hashed in place. */
    public static String sha256Hex(Buffer buffer) {
        MessageDigest digest = StoreKeys.sha256Digest();
        digest.update(view(buffer));
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * All of {@code in}, expected to hold {@code size} bytes, read into one array of that size (not a
     * growing one) and fed to {@code digest} piece by piece as it is read. A stream that turns out
     * shorter or longer gives all it held, in an array of its true length.
     */
    public static byte[] readAll(InputStream in, long size, MessageDigest digest) throws IOException {
        byte[] bytes = new byte[(int) Math.min(Math.max(size, 0), Integer.MAX_VALUE - 8)];
        int filled = 0;
        while (true) {
            if (filled == bytes.length) {
                int next = in.read();
                if (next < 0) {
                    return bytes;
                }
                // Longer than announced: grow, as a stream read whole would.
                bytes = Arrays.copyOf(bytes, Math.max(PIECE, bytes.length + (bytes.length >> 1)));
                bytes[filled] = (byte) next;
                digest.update(bytes, filled++, 1);
                continue;
            }
            int n = in.read(bytes, filled, Math.min(PIECE, bytes.length - filled));
            if (n < 0) {
                return Arrays.copyOf(bytes, filled);
            }
            digest.update(bytes, filled, n);
            filled += n;
        }
    }
}
