package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.embedding.TextExtractor.Extraction;
import io.trisync.store.FileFields;
import io.trisync.testsupport.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TextExtractorTest {

    private final TextExtractor extractor = new TextExtractor();

    @Test
    @DisplayName("Plain text and Markdown come out as they are")
    void plainAndMarkdown() {
        assertThat(extractor.extract("héllo wörld 🙂".getBytes(StandardCharsets.UTF_8), "text/plain", "a.txt"))
                .isEqualTo(Extraction.of("héllo wörld 🙂"));
        assertThat(extractor.extract(
                        "# Title\n\ntext".getBytes(StandardCharsets.UTF_8), "application/octet-stream", "notes.md"))
                .isEqualTo(Extraction.of("# Title\n\ntext"));
    }

    @Test
    @DisplayName("HTML gives its visible text, without scripts or tags")
    void html() {
        String html = "<html><head><script>var secret = 1;</script><style>p{}</style></head>"
                + "<body><h1>Invoice</h1><p>Total <b>42</b> EUR</p></body></html>";
        Extraction text = extractor.extract(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8", "x");
        assertThat(text).isEqualTo(Extraction.of("Invoice Total 42 EUR"));
    }

    @Test
    @DisplayName("PDF text is extracted by PDFBox")
    void pdf() {
        Extraction text = extractor.extract(
                Fixtures.pdf("First line of the contract", "Second line"), "application/pdf", "c.pdf");
        assertThat(text.failed()).isFalse();
        assertThat(text.text()).contains("First line of the contract").contains("Second line");
    }

    @Test
    @DisplayName("Kinds that carry no text, and a readable PDF without a text layer, give no text and no failure")
    void nothingToExtract() {
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0, 1};
        assertThat(extractor.extract(binary, "image/png", "a.png")).isEqualTo(Extraction.NONE);
        assertThat(extractor.extract(binary, "application/octet-stream", "blob.bin"))
                .isEqualTo(Extraction.NONE);
        assertThat(extractor.extract("abc".getBytes(StandardCharsets.UTF_8), null, null))
                .isEqualTo(Extraction.NONE);
        Extraction blankPage = extractor.extract(Fixtures.pdf(), "application/pdf", "scan.pdf");
        assertThat(blankPage.failed()).isFalse();
        assertThat(blankPage.text()).isBlank();
    }

    @Test
    @DisplayName("A PDF that PDFBox cannot parse fails with a reason, whatever its name or header")
    void brokenPdfFails() {
        for (byte[] broken : List.of(
                "not a pdf".getBytes(StandardCharsets.UTF_8), "%PDF-1.7 garbage".getBytes(StandardCharsets.UTF_8))) {
            Extraction result = extractor.extract(broken, "application/pdf", "a.pdf");
            assertThat(result.failed()).isTrue();
            assertThat(result.text()).isEmpty();
            assertThat(result.failure())
                    .startsWith("PDFBox cannot read the PDF: ")
                    .hasSizeLessThan(220);
        }
        assertThat(extractor
                        .extract(
                                "%PDF-1.7 garbage".getBytes(StandardCharsets.UTF_8),
                                "application/octet-stream",
                                "x.pdf")
                        .failed())
                .as("the .pdf name makes it a PDF")
                .isTrue();
    }

    @Test
    @DisplayName("A PDF encrypted with a user password fails with a reason saying so")
    void encryptedPdfFails() throws Exception {
        byte[] encrypted;
        try (PDDocument doc = Loader.loadPDF(Fixtures.pdf("secret terms"));
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            StandardProtectionPolicy policy =
                    new StandardProtectionPolicy("owner-pw", "user-pw", new AccessPermission());
            policy.setEncryptionKeyLength(128);
            doc.protect(policy);
            doc.save(out);
            encrypted = out.toByteArray();
        }
        Extraction result = extractor.extract(encrypted, "application/pdf", "locked.pdf");
        assertThat(result.failure()).isEqualTo("the PDF is encrypted and cannot be read without its password");
    }

    @Test
    @DisplayName("Undeclared bytes that are not UTF-8 are read as windows-1252 when they look like text (browsers"
            + " declare no charset for a file), except JSON; bytes with control bytes, or not windows-1252 either,"
            + " fail naming the first bad byte")
    void invalidUtf8() {
        byte[] latin1 = "caf\u00e9 au lait\r\n\u201cquoted\u201d".getBytes(Charset.forName("windows-1252"));
        for (String[] kind :
                new String[][] {{"text/plain", "a.txt"}, {"text/markdown", "a.md"}, {"text/csv", "a.csv"}}) {
            assertThat(extractor.extract(latin1, kind[0], kind[1]))
                    .as(kind[0])
                    .isEqualTo(Extraction.of("caf\u00e9 au lait\r\n\u201cquoted\u201d"));
        }
        assertThat(extractor.extract(latin1, "text/html", "a.html"))
                .isEqualTo(Extraction.of("caf\u00e9 au lait \u201cquoted\u201d"));
        assertThat(extractor.extract(latin1, "application/json", "a.json").failure())
                .as("JSON is UTF-8 (RFC 8259)")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 3)");
        byte[] binary = {'a', 'b', (byte) 0xe9, 0, 1};
        assertThat(extractor.extract(binary, "text/plain", "b.txt").failure())
                .as("control bytes: not text")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 2)");
        byte[] utf8ThenBad = {'a', (byte) 0xc3, (byte) 0xa9, ' ', (byte) 0xe9};
        assertThat(extractor.extract(utf8ThenBad, "text/plain", "m.txt").failure())
                .as("UTF-8 before the bad byte: UTF-8 with a bad byte, not windows-1252")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 4)");
        byte[] laterUtf8 = "abc \u00e9 then utf8 ".getBytes(StandardCharsets.ISO_8859_1);
        byte[] mixed = Arrays.copyOf(laterUtf8, laterUtf8.length + 4);
        System.arraycopy("\u00e9\u00e8".getBytes(StandardCharsets.UTF_8), 0, mixed, laterUtf8.length, 4);
        assertThat(extractor.extract(mixed, "text/plain", "x.txt").failure())
                .as("UTF-8 after the bad byte: UTF-8 with a bad byte, not windows-1252")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 4)");
        byte[] bomThenBad = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'M', (byte) 0xFC, 'n'};
        assertThat(extractor.extract(bomThenBad, "text/csv", "excel.csv").failure())
                .as("a UTF-8 byte order mark: UTF-8")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 4)");
        byte[] undefined = {'a', 'b', (byte) 0x81};
        assertThat(extractor.extract(undefined, "text/plain", "u.txt").failure())
                .as("0x81 is no windows-1252 character either")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 2)");
        byte[] truncated = Arrays.copyOf("ok \ud83d\ude42".getBytes(StandardCharsets.UTF_8), 5);
        assertThat(extractor.extract(truncated, "application/json", "t.json").failure())
                .as("a sequence cut off at the end")
                .isEqualTo("the content is not valid UTF-8 text (first invalid byte at offset 3)");
    }

    @Test
    @DisplayName("Text is read in the charset its type declares, strictly; a charset the JVM does not know is a"
            + " failure naming it; a UTF-8 byte order mark is left out")
    void declaredCharset() {
        byte[] latin1 = "caf\u00e9 au lait".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(extractor.extract(latin1, "text/plain; charset=iso-8859-1", "a.txt"))
                .isEqualTo(Extraction.of("caf\u00e9 au lait"));
        assertThat(extractor.extract(latin1, "text/csv;Charset=\"ISO-8859-1\"", "a.csv"))
                .isEqualTo(Extraction.of("caf\u00e9 au lait"));
        assertThat(extractor.extract(
                        "<p>na\u00efve</p>".getBytes(StandardCharsets.ISO_8859_1), "text/html; charset=latin1", "x"))
                .isEqualTo(Extraction.of("na\u00efve"));
        // 0x81 has no character in windows-1252.
        assertThat(extractor
                        .extract(new byte[] {'a', 'b', (byte) 0x81}, "text/plain; charset=windows-1252", "w.txt")
                        .failure())
                .isEqualTo("the content is not valid windows-1252 text (first invalid byte at offset 2)");
        assertThat(extractor
                        .extract(latin1, "text/plain; charset=klingon-8", "k.txt")
                        .failure())
                .isEqualTo("the content's declared charset 'klingon-8' is not one this server reads");
        // An HTML page says its charset in a <meta> (browsers look in the first 1,024 bytes).
        byte[] page =
                "<html><head><meta charset=\"windows-1252\"><title>x</title></head><body>\u201ccaf\u00e9\u201d</body>"
                        .getBytes(Charset.forName("windows-1252"));
        assertThat(extractor.extract(page, "text/html", "p.html")).isEqualTo(Extraction.of("x \u201ccaf\u00e9\u201d"));
        byte[] equiv = ("<meta http-equiv=Content-Type content='text/html; charset=ISO-8859-1'><p>na\u00efve")
                .getBytes(StandardCharsets.ISO_8859_1);
        assertThat(extractor.extract(equiv, "text/html", "q.htm")).isEqualTo(Extraction.of("na\u00efve"));
        assertThat(extractor.extract(equiv, "text/html; charset=utf-8", "q.htm").failure())
                .as("the type's charset comes before the page's")
                .startsWith("the content is not valid UTF-8 text");
        // Notepad's "Unicode": UTF-16 with its byte order mark, either order, and no charset declared.
        for (Charset utf16 : new Charset[] {StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE}) {
            byte[] mark = utf16.equals(StandardCharsets.UTF_16BE)
                    ? new byte[] {(byte) 0xFE, (byte) 0xFF}
                    : new byte[] {(byte) 0xFF, (byte) 0xFE};
            byte[] text = "na\u00efve caf\u00e9".getBytes(utf16);
            byte[] marked = Arrays.copyOf(mark, mark.length + text.length);
            System.arraycopy(text, 0, marked, mark.length, text.length);
            assertThat(extractor.extract(marked, "text/plain", "u.txt"))
                    .as(utf16.name())
                    .isEqualTo(Extraction.of("na\u00efve caf\u00e9"));
        }
        byte[] withBom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'h', 'i'};
        assertThat(extractor.extract(withBom, "text/plain", "b.txt")).isEqualTo(Extraction.of("hi"));
        assertThat(FileFields.charset("text/plain; format=flowed; charset=utf-8"))
                .isEqualTo("utf-8");
        assertThat(FileFields.charset("text/plain")).isNull();
    }

    @Test
    @DisplayName("The kind: PDF bytes are a PDF whatever their name or type, a declared text type beats the name,"
            + " and the name decides past a generic or unrelated type")
    void kindPrecedence() {
        byte[] text = "plain words".getBytes(StandardCharsets.UTF_8);
        assertThat(extractor.extract(text, "text/plain", "notes.pdf")).isEqualTo(Extraction.of("plain words"));
        assertThat(extractor.extract(text, "application/vnd.ms-excel", "sheet.csv"))
                .as("a CSV as Windows browsers type it")
                .isEqualTo(Extraction.of("plain words"));
        assertThat(extractor.extract("<b>bold</b>".getBytes(StandardCharsets.UTF_8), "text/html", "page.pdf"))
                .isEqualTo(Extraction.of("bold"));
        Extraction pdf = extractor.extract(Fixtures.pdf("Inside a PDF"), "text/plain", "report.txt");
        assertThat(pdf.failed()).isFalse();
        assertThat(pdf.text()).contains("Inside a PDF");
        assertThat(extractor.extract(text, "application/ld+json", "x")).isEqualTo(Extraction.of("plain words"));
        assertThat(extractor.extract(text, "image/png", "a.png")).isEqualTo(Extraction.NONE);
    }

    @Test
    @DisplayName("XML gives its character data, a line an element, in the encoding it declares (it was indexed"
            + " raw as text/xml, markup and all, and had no text as application/xml); a malformed text/xml is"
            + " read as text, a malformed application/xml fails")
    void xml() {
        byte[] doc = ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><book><title>Caf\u00e9 notes</title>"
                        + "<chapter><para>First <b>bold</b> point.</para><para><![CDATA[a < b]]></para></chapter></book>")
                .getBytes(StandardCharsets.ISO_8859_1);
        Extraction expected = Extraction.of("Caf\u00e9 notes\nFirst bold\n point.\na < b");
        assertThat(extractor.extract(doc, "application/xml", "book.xml")).isEqualTo(expected);
        assertThat(extractor.extract(doc, "text/xml", "book")).isEqualTo(expected);
        assertThat(extractor.extract(doc, "application/octet-stream", "book.xml"))
                .isEqualTo(expected);
        assertThat(extractor.extract(doc, "application/docbook+xml", "b")).isEqualTo(expected);
        byte[] broken = "<a><b>unclosed</a>".getBytes(StandardCharsets.UTF_8);
        assertThat(extractor.extract(broken, "text/xml", "x.xml")).isEqualTo(Extraction.of("<a><b>unclosed</a>"));
        assertThat(extractor.extract(broken, "application/xml", "x.xml").failure())
                .startsWith("the XML cannot be read: ");
    }

    @Test
    @DisplayName("An XML document whose media type declares a charset is read in it (RFC 7303), over the UTF-8"
            + " its missing declaration implies")
    void xmlCharsetFromItsType() {
        byte[] doc = "<note>Caf\u00e9</note>".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(extractor.extract(doc, "application/xml; charset=iso-8859-1", "n.xml"))
                .isEqualTo(Extraction.of("Caf\u00e9"));
    }
}
