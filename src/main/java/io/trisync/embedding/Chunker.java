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

    /** The chunks of {@code text} in order; none for blank text. */
    public List<String> chunk(String text) {
        String[] tokens = text.trim().split("\\s+");
        List<String> chunks = new ArrayList<>();
        if (text.isBlank()) {
            return chunks;
        }
        int step = words - overlap;
        for (int start = 0; start < tokens.length; start += step) {
            int end = Math.min(tokens.length, start + words);
            chunks.add(String.join(" ", Arrays.asList(tokens).subList(start, end)));
            if (end == tokens.length) {
                break;
            }
        }
        return chunks;
    }
}
