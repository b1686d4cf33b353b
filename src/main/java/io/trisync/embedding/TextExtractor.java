package io.trisync.embedding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.RandomAccessReadBuffer;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;
import org.jsoup.Jsoup;

/**
 * Plain text out of a file's bytes: {@code text/*}, JSON and Markdown as strict UTF-8, HTML through
 * jsoup (visible text only), PDF through PDFBox. Three outcomes: the text; no text to extract (a kind
 * that carries none, such as images or octet-stream, or a readable PDF without a text layer), which
 * is the empty string and a valid synced state with zero chunks; or a failure with a short reason (a
 * PDF PDFBox cannot read, bytes of a text or HTML kind that are not valid UTF-8), which the caller
 * must record rather than call synced. Pure: no I/O besides the bytes given.
 */
public final class TextExtractor {

    /** At most this many characters of an underlying error message go into a failure's reason. */
    static final int MAX_DETAIL = 160;

    /** What extraction gave: the text ("" when there is none), or why it failed ({@code failure}, then text is ""). */
    public record Extraction(String text, String failure) {

        /** Nothing to extract: a valid state with zero chunks. */
        public static final Extraction NONE = new Extraction("", null);

        public Extraction {
            text = failure == null ? Objects.requireNonNull(text, "text") : "";
        }

        public static Extraction of(String text) {
            return new Extraction(text, null);
        }

        public static Extraction failed(String reason) {
            return new Extraction("", Objects.requireNonNull(reason, "reason"));
        }

        public boolean failed() {
            return failure != null;
        }
    }

    /** Extracts the text of {@code bytes}; never throws for unreadable content, which is a failure with its reason. */
    public Extraction extract(byte[] bytes, String contentType, String fileName) {
        return extract(ByteBuffer.wrap(bytes), contentType, fileName);
    }

    /**
     * {@link #extract(byte[], String, String)} of the bytes {@code content} views, from its position
     * to its limit: read in place, never copied whole (its position is left as it was).
     */
    public Extraction extract(ByteBuffer content, String contentType, String fileName) {
        ByteBuffer bytes = content.slice();
        String kind = kind(contentType, fileName);
        try {
            return switch (kind) {
                case "pdf" -> Extraction.of(pdf(bytes));
                case "html" -> Extraction.of(Jsoup.parse(utf8(bytes)).text());
                case "text" -> Extraction.of(utf8(bytes));
                default -> Extraction.NONE;
            };
        } catch (NotUtf8 e) {
            return Extraction.failed(e.getMessage());
        } catch (InvalidPasswordException e) {
            return Extraction.failed("the PDF is encrypted and cannot be read without its password");
        } catch (IOException | RuntimeException e) {
            return Extraction.failed(
                    ("pdf".equals(kind) ? "PDFBox cannot read the PDF: " : "the " + kind + " cannot be read: ")
                            + detail(e));
        }
    }

    static String kind(String contentType, String fileName) {
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        String name = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
        if (type.startsWith("application/pdf") || name.endsWith(".pdf")) {
            return "pdf";
        }
        if (type.startsWith("text/html")
                || type.startsWith("application/xhtml")
                || name.endsWith(".html")
                || name.endsWith(".htm")) {
            return "html";
        }
        if (type.startsWith("text/")
                || type.startsWith("application/json")
                || name.endsWith(".md")
                || name.endsWith(".markdown")
                || name.endsWith(".txt")
                || name.endsWith(".csv")) {
            return "text";
        }
        return "other";
    }

    private static String pdf(ByteBuffer bytes) throws IOException {
        try (PDDocument document = Loader.loadPDF(new RandomAccessReadBuffer(bytes))) {
            return new PDFTextStripper().getText(document);
        }
    }

    /** Strict UTF-8: bytes that are not text fail (with the offset of the first bad byte) rather than give replacement characters. */
    private static String utf8(ByteBuffer bytes) throws NotUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = bytes.duplicate();
        // Checked through a small window first, then decoded once into the string: a buffer of one
        // char per byte would hold twice the file's size (chars are two bytes) beside the string.
        CharBuffer out = CharBuffer.allocate(CHECK_WINDOW);
        CoderResult result;
        do {
            out.clear();
            result = decoder.decode(in, out, true);
        } while (result.isOverflow());
        if (result.isUnderflow()) {
            do {
                out.clear();
                result = decoder.flush(out);
            } while (result.isOverflow());
        }
        if (result.isError()) {
            throw new NotUtf8(in.position());
        }
        if (bytes.hasArray()) {
            return new String(
                    bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining(), StandardCharsets.UTF_8);
        }
        return StandardCharsets.UTF_8.decode(bytes.duplicate()).toString();
    }

    /** The chars {@link #utf8} decodes at a time to check that bytes are UTF-8. */
    private static final int CHECK_WINDOW = 8 * 1024;

    private static String detail(Throwable e) {
        String message = e.getMessage() == null || e.getMessage().isBlank()
                ? e.getClass().getSimpleName()
                : e.getMessage().strip().replaceAll("\\s+", " ");
        return message.length() <= MAX_DETAIL ? message : message.substring(0, MAX_DETAIL) + "…";
    }

    /** Bytes of a text kind that are not valid UTF-8. */
    private static final class NotUtf8 extends Exception {
        NotUtf8(int offset) {
            super(
                    "the content is not valid UTF-8 text (first invalid byte at offset " + offset + ")",
                    null,
                    false,
                    false);
        }
    }
}
