package io.trisync.embedding;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits text into overlapping chunks of whole words. The defaults (150 words, 30 of overlap) stay
 * under the 256-token input of all-MiniLM-L6-v2 for ordinary prose while keeping context across
 * chunk borders.
 */
public final class Chunker {

    public static final int DEFAULT_WORDS = 150;
    public static final int DEFAULT_OVERLAP = 30;

    private final int words;
    private final int overlap;

    public Chunker() {
        this(DEFAULT_WORDS, DEFAULT_OVERLAP);
    }

    public Chunker(int words, int overlap) {
        if (words < 1 || overlap < 0 || overlap >= words) {
            throw new IllegalArgumentException("need words >= 1 and 0 <= overlap < words");
        }
        this.words = words;
        this.overlap = overlap;
    }

    /**
     * The chunks of {@code text} in order; none for blank text. Words are as {@code
     * text.trim().split("\\s+")} gives them, found by their offsets in {@code text} rather than
     * copied out one string each (for a large file those strings took far more than the text).
     */
    public List<String> chunk(String text) {
        List<String> chunks = new ArrayList<>();
        if (text.isBlank()) {
            return chunks;
        }
        int[] bounds = wordBounds(text);
        int count = bounds.length / 2;
        if (count == 0) {
            // Nothing but control characters, which trim() removes: split gives one empty word.
            chunks.add("");
            return chunks;
        }
        int step = words - overlap;
        for (int start = 0; start < count; start += step) {
            int end = Math.min(count, start + words);
            chunks.add(joined(text, bounds, start, end));
            if (end == count) {
                break;
            }
        }
        return chunks;
    }

    /** Start and end offsets of each word of {@code text}, in pairs. */
    private static int[] wordBounds(String text) {
        int from = 0;
        int to = text.length();
        while (from < to && text.charAt(from) <= ' ') {
            from++;
        }
        while (to > from && text.charAt(to - 1) <= ' ') {
            to--;
        }
        int[] bounds = new int[64];
        int n = 0;
        int i = from;
        while (i < to) {
            int start = i;
            while (i < to && !space(text.charAt(i))) {
                i++;
            }
            if (n + 2 > bounds.length) {
                bounds = Arrays.copyOf(bounds, bounds.length * 2);
            }
            bounds[n++] = start;
            bounds[n++] = i;
            while (i < to && space(text.charAt(i))) {
                i++;
            }
        }
        return Arrays.copyOf(bounds, n);
    }

    /** The characters regex {@code \s} matches. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    /** Words {@code start} to {@code end} (exclusive) of {@code text}, joined by single spaces. */
    private static String joined(String text, int[] bounds, int start, int end) {
        int length = end - start - 1;
        for (int w = start; w < end; w++) {
            length += bounds[2 * w + 1] - bounds[2 * w];
        }
        StringBuilder chunk = new StringBuilder(length);
        for (int w = start; w < end; w++) {
            if (w > start) {
                chunk.append(' ');
            }
            chunk.append(text, bounds[2 * w], bounds[2 * w + 1]);
        }
        return chunk.toString();
    }
}
