package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.Fixtures;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TextExtractorTest {

    private final TextExtractor extractor = new TextExtractor();

    @Test
    @DisplayName("Plain text and Markdown come out as they are")
    void plainAndMarkdown() {
        assertThat(extractor.extract("héllo wörld".getBytes(StandardCharsets.UTF_8), "text/plain", "a.txt"))
                .isEqualTo("héllo wörld");
        assertThat(extractor.extract(
                        "# Title\n\ntext".getBytes(StandardCharsets.UTF_8), "application/octet-stream", "notes.md"))
                .isEqualTo("# Title\n\ntext");
    }

    @Test
    @DisplayName("HTML gives its visible text, without scripts or tags")
    void html() {
        String html = "<html><head><script>var secret = 1;</script><style>p{}</style></head>"
                + "<body><h1>Invoice</h1><p>Total <b>42</b> EUR</p></body></html>";
        String text = extractor.extract(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8", "x");
        assertThat(text).isEqualTo("Invoice Total 42 EUR");
    }

    @Test
    @DisplayName("PDF text is extracted by PDFBox")
    void pdf() {
        String text = extractor.extract(
                Fixtures.pdf("First line of the contract", "Second line"), "application/pdf", "c.pdf");
        assertThat(text).contains("First line of the contract").contains("Second line");
    }

    @Test
    @DisplayName("Binary content, a broken PDF and unknown types give no text")
    void nothingToExtract() {
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0, 1};
        assertThat(extractor.extract(binary, "text/plain", "a.txt")).isEmpty();
        assertThat(extractor.extract("not a pdf".getBytes(StandardCharsets.UTF_8), "application/pdf", "a.pdf"))
                .isEmpty();
        assertThat(extractor.extract("abc".getBytes(StandardCharsets.UTF_8), "image/png", "a.png"))
                .isEmpty();
    }
}
