package io.trisync.embedding;

import io.trisync.embedding.OfficeLimits.Limit;

/**
 * The characters of text one Office document holds so far, over every part, its shared strings and
 * what its order parts hold, against the document's limit: one per document reading.
 */
final class TextBudget {
    private final long maxText;
    /** Characters of text held so far, over every part and the shared strings. */
    private long chars;

    TextBudget(long maxText) {
        this.maxText = maxText;
    }

    /** Appends {@code more} to {@code text}, its characters counted against the limit first. */
    void append(StringBuilder text, String more) throws Limit {
        hold(more.length());
        text.append(more);
    }

    /** Counts {@code n} more characters held against the document's limit. */
    void hold(long n) throws Limit {
        chars += n;
        if (chars > maxText) {
            throw new Limit("the document's text is longer than " + maxText + " characters");
        }
    }
}
