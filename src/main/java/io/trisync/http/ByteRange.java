package io.trisync.http;

import io.trisync.failure.Failure;
import java.util.Locale;

/**
 * The one byte range a download's {@code Range} header asks for, read as RFC 9110 (section 14) says:
 * {@code bytes=a-b}, {@code bytes=a-} or {@code bytes=-n}, resolved against the content's size ({@code
 * b} past the end is the last byte, {@code n} past the start is the whole). A header this service does
 * not serve as a range is ignored, which the RFC allows of any range request, and the whole content is
 * sent: another unit than {@code bytes}, a malformed set, and several ranges (answering them would take
 * a {@code multipart/byteranges} body, which clients resuming or seeking in a download do not need).
 * A well-formed single range that starts at or past the end is unsatisfiable (416).
 *
 * @param first the first byte sent, from 0
 * @param last the last byte sent, inclusive
 */
record ByteRange(long first, long last) {

    /** The range's length in bytes. */
    long length() {
        return last - first + 1;
    }

    /** {@code Content-Range} of a 206 over content of {@code size} bytes. */
    String contentRange(long size) {
        return "bytes " + first + "-" + last + "/" + size;
    }

    /**
     * The range {@code header} asks for within content of {@code size} bytes, or null when the whole
     * is to be sent (no header, or one ignored as the class says); throws {@link
     * Failure.RangeNotSatisfiable} for a single range no byte of the content satisfies.
     */
    static ByteRange of(String header, long size) {
        if (header == null) {
            return null;
        }
        int equals = header.indexOf('=');
        if (equals < 0
                || !header.substring(0, equals).strip().toLowerCase(Locale.ROOT).equals("bytes")) {
            return null;
        }
        String spec = header.substring(equals + 1).strip();
        if (!spec.matches("[0-9]*-[0-9]*") || spec.equals("-")) {
            // Several ranges (a comma), or not a range at all.
            return null;
        }
        String from = spec.substring(0, spec.indexOf('-'));
        String to = spec.substring(spec.indexOf('-') + 1);
        if (from.isEmpty()) {
            long suffix = number(to);
            if (suffix == 0 || size == 0) {
                throw unsatisfiable(header, size);
            }
            return new ByteRange(Math.max(0, size - suffix), size - 1);
        }
        long first = number(from);
        long last = to.isEmpty() ? Long.MAX_VALUE : number(to);
        if (last < first) {
            // bytes=5-2 is invalid, not unsatisfiable (RFC 9110, 14.1.1): ignored.
            return null;
        }
        if (first >= size) {
            throw unsatisfiable(header, size);
        }
        return new ByteRange(first, Math.min(last, size - 1));
    }

    /** A decimal position; one beyond a {@code long} is past any content's end. */
    private static long number(String digits) {
        String significant = digits.replaceFirst("^0+(?=.)", "");
        return significant.length() > 18 ? Long.MAX_VALUE : Long.parseLong(significant);
    }

    private static Failure.RangeNotSatisfiable unsatisfiable(String header, long size) {
        return new Failure.RangeNotSatisfiable(
                "Range: " + header.strip() + " selects no byte of the content, which is " + size
                        + " bytes long (ranges start at 0 and end at " + Math.max(0, size - 1) + ")",
                size);
    }
}
