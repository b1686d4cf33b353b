package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ChunkerTest {

    private static String words(int n) {
        List<String> w = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            w.add("w" + i);
        }
        return String.join(" ", w);
    }

    @Test
    @DisplayName("Blank text has no chunks; short text is one chunk")
    void blankAndShort() {
        Chunker chunker = new Chunker(10, 2);
        assertThat(chunker.chunk("")).isEmpty();
        assertThat(chunker.chunk("  \n\t ")).isEmpty();
        assertThat(chunker.chunk("one two three")).containsExactly("one two three");
    }

    @Test
    @DisplayName("Chunks hold at most N words, overlap by K, cover every word, and end at the last word")
    void overlapAndCoverage() {
        Chunker chunker = new Chunker(10, 3);
        List<String> chunks = chunker.chunk(words(25));
        assertThat(chunks)
                .containsExactly(
                        "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9",
                        "w7 w8 w9 w10 w11 w12 w13 w14 w15 w16",
                        "w14 w15 w16 w17 w18 w19 w20 w21 w22 w23",
                        "w21 w22 w23 w24");
        assertThat(new Chunker(10, 3).chunk(words(10))).hasSize(1);
        assertThat(new Chunker(10, 3).chunk(words(11))).hasSize(2);
    }

    @Test
    @DisplayName("Whitespace of any kind separates words")
    void whitespace() {
        assertThat(new Chunker(3, 0).chunk("a\nb\t\tc   d")).containsExactly("a b c", "d");
    }

    @Test
    @DisplayName("Overlap must be smaller than the chunk")
    void invalidSizes() {
        assertThatThrownBy(() -> new Chunker(5, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Chunker(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName(
            "Words are those of trim() and split(\"\\\\s+\"), on random text of spaces, control and other characters")
    void sameWordsAsSplit() {
        String alphabet = " \t\n\u000B\f\r\u0001\u00A0\u2003ab";
        Random random = new Random(11);
        for (int round = 0; round < 5_000; round++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String t = text.toString();
            assertThat(new Chunker(4, 1).chunk(t))
                    .as("%s", t.chars().boxed().toList())
                    .isEqualTo(bySplit(t, 4, 1));
        }
    }

    @Test
    @DisplayName("Chunks made one at a time are those of the split text, for any chunk size and overlap")
    void chunksOneAtATimeAsSplit() {
        String alphabet = " \t\n\r\u0001\u00A0abc";
        Random random = new Random(12);
        int[][] sizes = {{1, 0}, {2, 1}, {3, 0}, {5, 4}, {7, 2}, {150, 30}};
        for (int round = 0; round < 3_000; round++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(round % 10 == 0 ? 3_000 : 80); i > 0; i--) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String t = text.toString();
            int[] size = sizes[round % sizes.length];
            Iterator<String> chunks = new Chunker(size[0], size[1]).chunks(t);
            List<String> made = new ArrayList<>();
            chunks.forEachRemaining(made::add);
            assertThat(made).as("%s", t.chars().boxed().toList()).isEqualTo(bySplit(t, size[0], size[1]));
            assertThat(chunks.hasNext()).isFalse();
        }
    }

    @Test
    @DisplayName("Readable: a text with a letter, digit, sign or mark the tokenizer knows; not one of no-break spaces,"
            + " zero-width, control, private-use or lone combining characters, surrogates or U+FFFD alone")
    void readable() {
        for (String text : List.of("a", " x ", "\u200b1", "\u00e9", "e\u0301", "%", "\u4e2d", "\ud83d\ude00")) {
            assertThat(Chunker.readable(text))
                    .as("%s", text.codePoints().boxed().toList())
                    .isTrue();
        }
        for (String text : List.of(
                "",
                " ",
                "\u00a0\u00a0",
                "\u200b",
                "\ufeff",
                "\u00ad",
                "\u0000\u0001",
                "\u0085",
                "\u0301",
                "\ud800",
                "\udc00",
                "\ue000",
                "\ufffd",
                "\u2028",
                "\u3000",
                "\u180e")) {
            assertThat(Chunker.readable(text))
                    .as("%s", text.codePoints().boxed().toList())
                    .isFalse();
        }
    }

    /** What the chunker gave when it split the text into strings. */
    private static List<String> bySplit(String text, int words, int overlap) {
        String[] tokens = text.trim().split("\\s+");
        List<String> chunks = new ArrayList<>();
        if (text.isBlank()) {
            return chunks;
        }
        for (int start = 0; start < tokens.length; start += words - overlap) {
            int end = Math.min(tokens.length, start + words);
            chunks.add(String.join(" ", Arrays.asList(tokens).subList(start, end)));
            if (end == tokens.length) {
                break;
            }
        }
        return chunks;
    }
}
