package io.trisync.embedding;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

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
        chunks(text).forEachRemaining(chunks::add);
        return chunks;
    }

    /**
     * The chunks of {@link #chunk}, each made when it is asked for: a large text's chunks are never
     * all held at once (together they take more than the text, which they overlap).
     */
    public Iterator<String> chunks(String text) {
        return new Chunks(text);
    }

    /** Walks the text once, a chunk at a time, remembering only where the next chunk starts. */
    private final class Chunks implements Iterator<String> {

        private final String text;
        private final int to;
        /** Where the next chunk's first word starts; -1 when there is no next chunk. */
        private int next;
        /** Nothing but control characters, which trim() removes: split gives one empty word. */
        private boolean empty;

        Chunks(String text) {
            this.text = text;
            int from = 0;
            int end = text.length();
            while (from < end && text.charAt(from) <= ' ') {
                from++;
            }
            while (end > from && text.charAt(end - 1) <= ' ') {
                end--;
            }
            this.to = end;
            boolean blank = text.isBlank();
            this.empty = !blank && from == end;
            this.next = blank || empty ? -1 : from;
        }

        @Override
        public boolean hasNext() {
            return next >= 0 || empty;
        }

        @Override
        public String next() {
            if (empty) {
                empty = false;
                return "";
            }
            if (next < 0) {
                throw new NoSuchElementException();
            }
            StringBuilder chunk = new StringBuilder();
            int i = next;
            int following = -1;
            for (int w = 0; w < words && i < to; w++) {
                if (w == words - overlap) {
                    following = i;
                }
                int start = i;
                while (i < to && !space(text.charAt(i))) {
                    i++;
                }
                if (w > 0) {
                    chunk.append(' ');
                }
                chunk.append(text, start, i);
                while (i < to && space(text.charAt(i))) {
                    i++;
                }
            }
            // The last chunk ends at the last word; the next one starts (words - overlap) words on,
            // which is right after this one when there is no overlap.
            next = i >= to ? -1 : following >= 0 ? following : i;
            return chunk.toString();
        }
    }

    /**
     * Whether {@code text} holds anything a model can read: a character other than white space (no-break
     * spaces too), control, formatting (zero-width space, byte order mark, soft hyphen), surrogate,
     * private-use or unassigned characters, lone combining marks and U+FFFD. all-MiniLM-L6-v2's
     * tokenizer (BERT's normaliser: control, formatting and private-use characters and U+FFFD removed,
     * accents stripped, white space split) makes no token of a text without one, and the library then
     * refuses the text; a chunk or a query of such characters alone carries nothing to search for. Checked
     * against the tokenizer over every code point: each one it makes no token of is unreadable here, and
     * the few called unreadable that it does make a token of ({@code [UNK]}) are marks and unassigned
     * code points its Unicode tables, older than Java's, do not know.
     */
    public static boolean readable(CharSequence text) {
        return text.codePoints().anyMatch(Chunker::readable);
    }

    private static boolean readable(int cp) {
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0xFFFD) {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL,
                    Character.FORMAT,
                    Character.SURROGATE,
                    Character.PRIVATE_USE,
                    Character.UNASSIGNED,
                    Character.NON_SPACING_MARK -> false;
            default -> true;
        };
    }

    /** The characters regex {@code \s} matches. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }
}
