package io.trisync.embedding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.jsoup.Jsoup;

/**
 * Plain text out of a file's bytes: {@code text/*} and Markdown as UTF-8, HTML through jsoup (visible
 * text only), PDF through PDFBox. Anything else, or bytes that are not text, give the empty string:
 * such a file is stored with zero chunks, which is a valid synced state.
 */
public final class TextExtractor {

    /** Extracts text; never throws for unreadable content, which yields "". */
    public String extract(byte[] bytes, String contentType, String fileName) {
        String kind = kind(contentType, fileName);
        try {
            return switch (kind) {
                case "pdf" -> pdf(bytes);
                case "html" -> Jsoup.parse(utf8(bytes)).text();
                case "text" -> utf8(bytes);
                default -> "";
            };
        } catch (IOException | RuntimeException e) {
            return "";
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

    private static String pdf(byte[] bytes) throws IOException {
        try (PDDocument document = Loader.loadPDF(bytes)) {
            return new PDFTextStripper().getText(document);
        }
    }

    /** Strict UTF-8: bytes that are not text give "" rather than replacement characters. */
    private static String utf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }
}
