package io.trisync.embedding;

import java.io.InputStream;
import java.nio.ByteBuffer;

/** The bytes of a buffer as a stream, read in place (a direct buffer is not copied to an array). */
final class BufferInput extends InputStream {
    private final ByteBuffer bytes;

    /** Reads {@code bytes} from their position, moving it. */
    BufferInput(ByteBuffer bytes) {
        this.bytes = bytes;
    }

    @Override
    public int read() {
        return bytes.hasRemaining() ? bytes.get() & 0xff : -1;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) {
        if (!bytes.hasRemaining()) {
            return -1;
        }
        int n = Math.min(length, bytes.remaining());
        bytes.get(buffer, offset, n);
        return n;
    }
}
