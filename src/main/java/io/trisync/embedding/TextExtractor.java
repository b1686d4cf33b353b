package io.trisync.embedding;

import io.trisync.store.FileFields;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.stream.XMLStreamException;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.jsoup.Jsoup;

/**
 * Plain text out of a file's bytes: {@code text/*}, JSON and Markdown as strict text in the charset
 * the type declares (UTF-8 when it declares none), HTML through jsoup (visible text only), PDF through
 * PDFBox, Word, PowerPoint and Excel files (DOCX, PPTX, XLSX, with their macro-enabled, template and
 * slideshow variants) and their OpenDocument kin (and templates) through {@link OfficeText}, and
 * the legacy binary Excel and PowerPoint files (Office 97-2003; a legacy Word document or an Excel
 * 5.0/95 workbook fails naming the format to save it as) through {@link LegacyOfficeText}. Three outcomes: the text; no text to extract (a kind that carries none, such as images or
 * octet-stream, or a readable PDF without a text layer), which is the empty string and a valid synced
 * state with zero chunks; or a failure with a short reason (a PDF PDFBox cannot read, bytes of a text
 * or HTML kind that are not valid in their charset), which the caller must record rather than call
 * synced. Pure: no I/O besides the bytes given.
 *
 * <p>The kind is judged as file-type detectors do it (magic first, then the declared type, then the
 * name): bytes that open with the PDF header are a PDF whatever they are called, and bytes that open
 * with the OLE2 signature a compound file whose streams tell what it is (one that holds no Office
 * document has no text unless it was declared one, by an Office type or name); a declared text or
 * HTML type is believed over the name ({@code notes.pdf} sent as {@code text/plain} is text); a
 * declared PDF is a PDF (one PDFBox cannot read is reported); a declared image, audio, video or font
 * type has no text whatever its name ({@code x.docx} sent as {@code image/png} is an image); and the
 * name's extension decides only past those, so a CSV a browser sends as {@code
 * application/vnd.ms-excel} or Markdown sent as {@code application/octet-stream} is still read as
 * text. Last, a file of a generic type (none, {@code application/octet-stream}, {@code
 * application/zip}, {@code binary/octet-stream}) and no known name whose bytes open as a ZIP is tried
 * as an Office document: one that holds no document part (any other ZIP) is a kind without text, not
 * a failure.
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
        String kind = kind(contentType, fileName, bytes);
        try {
            if (kind.equals("zip") && !OfficeText.mayHoldDocument(bytes)) {
                return Extraction.NONE;
            }
            return switch (kind) {
                case "pdf" -> Extraction.of(PdfText.read(
                        bytes,
                        Math.max(MIN_PDF_INFLATED, PDF_INFLATION * (long) bytes.remaining()),
                        Math.max(MIN_TEXT, PDF_TEXT_PER_BYTE * (long) bytes.remaining())));
                case "ole2" -> Extraction.of(LegacyOfficeText.read(
                        bytes, Math.max(MIN_TEXT, OFFICE_TEXT_PER_BYTE * (long) bytes.remaining())));
                case "office", "zip" -> Extraction.of(OfficeText.read(
                        bytes,
                        Math.max(MIN_OFFICE_INFLATED, OFFICE_INFLATION * (long) bytes.remaining()),
                        Math.max(MIN_TEXT, OFFICE_TEXT_PER_BYTE * (long) bytes.remaining())));
                case "xml" -> Extraction.of(xml(bytes, contentType));
                case "html" -> Extraction.of(Jsoup.parse(text(bytes, htmlCharset(bytes, contentType), true))
                        .text());
                case "text" -> Extraction.of(
                        text(bytes, FileFields.charset(contentType), !json(contentType, fileName)));
                default -> Extraction.NONE;
            };
        } catch (OfficeLimits.Unreadable e) {
            // A ZIP only tried as Office (its type generic, its name none) that is no document has no text.
            // So is an OLE2 compound file that holds no Office document (an Outlook message, an installer)
            // unless it was declared one.
            boolean tried = "zip".equals(kind) || ("ole2".equals(kind) && !declaredOffice(contentType, fileName));
            return tried && !e.document() ? Extraction.NONE : Extraction.failed(e.getMessage());
        } catch (NotText | PdfText.Limit e) {
            return Extraction.failed(e.getMessage());
        } catch (InvalidPasswordException e) {
            return Extraction.failed("the PDF is encrypted and cannot be read without its password");
        } catch (IOException | RuntimeException e) {
            return Extraction.failed(
                    ("pdf".equals(kind) ? "PDFBox cannot read the PDF: " : "the " + kind + " cannot be read: ")
                            + detail(e));
        }
    }

    /**
     * Office Open XML and OpenDocument files, with their macro-enabled, template and slideshow variants
     * (the same parts): their media types and file name extensions.
     */
    private static final Set<String> OFFICE_TYPES = Set.of(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
            "application/vnd.ms-word.document.macroenabled.12",
            "application/vnd.ms-word.template.macroenabled.12",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
            "application/vnd.openxmlformats-officedocument.presentationml.template",
            "application/vnd.ms-powerpoint.presentation.macroenabled.12",
            "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
            "application/vnd.ms-powerpoint.template.macroenabled.12",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
            "application/vnd.ms-excel.sheet.macroenabled.12",
            "application/vnd.ms-excel.template.macroenabled.12",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.text-template",
            "application/vnd.oasis.opendocument.presentation",
            "application/vnd.oasis.opendocument.presentation-template",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.spreadsheet-template");

    private static final List<String> OFFICE_EXTENSIONS = List.of(
            ".docx", ".docm", ".dotx", ".dotm", ".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm", ".xlsx", ".xlsm",
            ".xltx", ".xltm", ".odt", ".ott", ".odp", ".otp", ".ods", ".ots");

    /** The media types of Word, Excel and PowerPoint 97-2003 files (and their templates). */
    private static final Set<String> LEGACY_OFFICE_TYPES =
            Set.of("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint");

    private static final List<String> LEGACY_OFFICE_EXTENSIONS =
            List.of(".doc", ".dot", ".xls", ".xlt", ".ppt", ".pps", ".pot");

    /**
     * Whether the file was declared an Office document, legacy or not, by its type or its name: then
     * an OLE2 compound file that holds none is a failure, not a kind without text.
     */
    private static boolean declaredOffice(String contentType, String fileName) {
        String type = FileFields.mediaType(contentType);
        String name = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
        return OFFICE_TYPES.contains(type)
                || LEGACY_OFFICE_TYPES.contains(type)
                || OFFICE_EXTENSIONS.stream().anyMatch(name::endsWith)
                || LEGACY_OFFICE_EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** Types that say nothing of a file's kind: one of them on a ZIP with no Office name is tried as Office. */
    private static final Set<String> GENERIC_TYPES =
            Set.of("", "application/octet-stream", "application/zip", "binary/octet-stream");

    /** A ZIP's local file header signature, with which an Office Open XML or OpenDocument file opens. */
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

    /**
     * An Office file is read until its parts inflate past this many times its size (at least {@link
     * #MIN_OFFICE_INFLATED} bytes): XML compresses 5 to 20 times, a ZIP bomb thousands.
     */
    static final long OFFICE_INFLATION = 100;

    static final long MIN_OFFICE_INFLATED = 256L * 1024 * 1024;

    /**
     * An Office file gives at most this many characters of text per byte (at least {@link
     * #MIN_TEXT}): two bytes of heap a character keep the text near what {@code MemoryBudget}
     * accounts a file at; a text-only document holds two to three characters a byte, most hold fewer.
     */
    static final long OFFICE_TEXT_PER_BYTE = 2;

    /**
     * The text a PDF or an Office file may give whatever its size (4 Mi characters, about 2,000 pages):
     * small files are embedded together, 32 at most, outside the memory budget, so a few kilobytes
     * that unfold into text are bounded by this.
     */
    static final long MIN_TEXT = 4L * 1024 * 1024;

    /**
     * A PDF's page contents (each page's content streams and the forms they draw) may inflate to at
     * most this many bytes per byte of the file (at least {@link #MIN_PDF_INFLATED}): text compresses
     * a few times, an 820 KB file that inflated 350 times took a 512 MiB heap down.
     */
    static final long PDF_INFLATION = 50;

    static final long MIN_PDF_INFLATED = 64L * 1024 * 1024;

    /**
     * A PDF gives at most this many characters of text per byte (at least {@link #MIN_TEXT}): a book's
     * PDF, its fonts subset and its pages compressed, holds three to six.
     */
    static final long PDF_TEXT_PER_BYTE = 8;

    /** The PDF header, with which a PDF opens. */
    private static final byte[] PDF_MAGIC = "%PDF-".getBytes(StandardCharsets.US_ASCII);

    static String kind(String contentType, String fileName, ByteBuffer bytes) {
        if (bytes != null && opensAsPdf(bytes)) {
            return "pdf";
        }
        if (bytes != null && OfficeText.startsWith(bytes, LegacyOfficeText.OLE2)) {
            // Office 97-2003 files and encrypted OOXML ones; its streams tell which, whatever its name.
            return "ole2";
        }
        String type = FileFields.mediaType(contentType);
        if (type.startsWith("image/")
                || type.startsWith("audio/")
                || type.startsWith("video/")
                || type.startsWith("font/")) {
            // A declared medium is believed over the name: a PNG named x.docx is an image.
            return "other";
        }
        if (type.equals("text/html") || type.startsWith("application/xhtml")) {
            return "html";
        }
        if (type.equals("text/xml") || type.equals("application/xml") || type.endsWith("+xml")) {
            return "xml";
        }
        if (type.startsWith("text/") || type.equals("application/json") || type.endsWith("+json")) {
            return "text";
        }
        if (type.equals("application/pdf")) {
            return "pdf";
        }
        if (OFFICE_TYPES.contains(type)) {
            return "office";
        }
        String name = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
        if (name.endsWith(".pdf")) {
            return "pdf";
        }
        if (name.endsWith(".html") || name.endsWith(".htm")) {
            return "html";
        }
        if (OFFICE_EXTENSIONS.stream().anyMatch(name::endsWith)) {
            return "office";
        }
        if (name.endsWith(".xml")) {
            return "xml";
        }
        if (name.endsWith(".md")
                || name.endsWith(".markdown")
                || name.endsWith(".txt")
                || name.endsWith(".csv")
                || name.endsWith(".json")) {
            return "text";
        }
        if (bytes != null && GENERIC_TYPES.contains(type) && OfficeText.startsWith(bytes, ZIP_MAGIC)) {
            return "zip";
        }
        return "other";
    }

    /**
     * Whether the bytes open with the PDF header. Readers tolerate it a little later (Acrobat within
     * the first 1,024 bytes), but a text that mentions {@code %PDF-} near its start is not a PDF.
     */
    private static boolean opensAsPdf(ByteBuffer bytes) {
        return OfficeText.startsWith(bytes, PDF_MAGIC);
    }

    /**
     * An HTML file's charset as browsers settle it: a UTF-8 byte order mark, else the charset its type
     * declares, else the one a {@code <meta>} in its first {@value #META_PRESCAN} bytes declares (a
     * page saved as windows-1252 says so there and nowhere else); null for none (UTF-8). As the HTML
     * standard says, a {@code <meta>} naming UTF-16 means UTF-8: bytes that were scanned as ASCII
     * cannot be UTF-16.
     */
    static String htmlCharset(ByteBuffer bytes, String contentType) {
        if (OfficeText.startsWith(bytes, UTF8_BOM)) {
            return null;
        }
        String declared = FileFields.charset(contentType);
        if (declared != null) {
            return declared;
        }
        ByteBuffer head = bytes.duplicate();
        head.limit(Math.min(head.limit(), head.position() + META_PRESCAN));
        Matcher meta = META_CHARSET.matcher(StandardCharsets.ISO_8859_1.decode(head));
        if (!meta.find()) {
            return null;
        }
        String named = meta.group(1);
        return named.toLowerCase(Locale.ROOT).startsWith("utf-16") ? null : named;
    }

    /** How far browsers look for a {@code <meta>} charset. */
    private static final int META_PRESCAN = 1024;

    /**
     * An XML document's character data ({@link XmlText}); one the parser refuses (not well-formed, a
     * DTD) is read as text instead, as every XML file was before, when its type is a text type.
     */
    private static String xml(ByteBuffer bytes, String contentType) throws NotText {
        try {
            return XmlText.read(bytes, FileFields.charset(contentType));
        } catch (XMLStreamException e) {
            if (FileFields.mediaType(contentType).startsWith("text/")) {
                return text(bytes, FileFields.charset(contentType), true);
            }
            throw new NotText("the XML cannot be read: " + detail(e));
        }
    }

    /** Whether the file is JSON, which is UTF-8 whatever it declares (RFC 8259): no legacy charset is guessed for it. */
    private static boolean json(String contentType, String fileName) {
        String type = FileFields.mediaType(contentType);
        return type.equals("application/json")
                || type.endsWith("+json")
                || (fileName != null && fileName.toLowerCase(Locale.ROOT).endsWith(".json"));
    }

    /** {@code <meta charset="x">} and {@code <meta http-equiv="Content-Type" content="text/html; charset=x">}. */
    private static final Pattern META_CHARSET =
            Pattern.compile("<meta\\b[^>]*?charset\\s*=\\s*[\"']?\\s*([A-Za-z0-9._:-]+)", Pattern.CASE_INSENSITIVE);

    /**
     * The bytes as text in the charset named {@code declared}, UTF-8 when null (UTF-16 when the bytes
     * open with its byte order mark); strict: bytes that are not valid in it fail (with the offset of
     * the first bad byte) rather than give replacement characters. A byte order mark is left out of
     * the text. With {@code legacy}, undeclared bytes that are not UTF-8 but read as text in
     * windows-1252 ({@link #legacyText}: no control bytes; no UTF-8 byte order mark or multi-byte
     * sequence anywhere, which make them UTF-8 with a bad byte; the charset browsers read such text
     * in) are read so: a CSV saved by Excel on Windows and sent by a browser, which never declares a charset
     * for a file, was a failure.
     */
    private static String text(ByteBuffer bytes, String declared, boolean legacy) throws NotText {
        Charset charset;
        try {
            charset = declared != null ? Charset.forName(declared) : marked(bytes);
        } catch (IllegalArgumentException e) {
            throw new NotText("the content's declared charset '" + declared + "' is not one this server reads");
        }
        ByteBuffer in = bytes.duplicate();
        if (charset.equals(StandardCharsets.UTF_8) && OfficeText.startsWith(in, UTF8_BOM)) {
            in.position(in.position() + UTF8_BOM.length);
        }
        if (charset.equals(StandardCharsets.UTF_16)
                && (OfficeText.startsWith(in, UTF16_BE_BOM) || OfficeText.startsWith(in, UTF16_LE_BOM))) {
            // Java's UTF-16 reads the mark for the byte order; the text starts after it.
            in.position(in.position() + UTF16_BE_BOM.length);
            charset =
                    OfficeText.startsWith(bytes, UTF16_BE_BOM) ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_16LE;
        }
        int invalidAt = invalidAt(in.slice(), charset);
        if (invalidAt < 0) {
            return decode(in.slice(), charset);
        }
        if (legacy
                && declared == null
                && charset.equals(StandardCharsets.UTF_8)
                && !OfficeText.startsWith(bytes, UTF8_BOM)
                && !hasUtf8Sequence(bytes)
                && legacyText(bytes)) {
            // What browsers read text that declares nothing and is not UTF-8 as.
            Charset windows1252 = Charset.forName("windows-1252");
            if (invalidAt(bytes.duplicate(), windows1252) < 0) {
                return decode(bytes.duplicate(), windows1252);
            }
        }
        throw new NotText("the content is not valid " + charset.name() + " text (first invalid byte at offset "
                + (in.position() - bytes.position() + invalidAt) + ")");
    }

    /**
     * The offset in {@code text} of its first byte that is not valid in {@code charset}, or -1;
     * checked through a small window: a buffer of one char per byte would hold twice the file's size
     * (chars are two bytes) beside the string decoded after.
     */
    private static int invalidAt(ByteBuffer text, Charset charset) {
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = text.duplicate();
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
        return result.isError() ? in.position() - text.position() : -1;
    }

    /**
     * Whether {@code bytes} hold a well-formed UTF-8 sequence of more than one byte anywhere: then they
     * are UTF-8 with a bad byte, not text of a single-byte charset (where such pairs are rare: "Ã©").
     */
    static boolean hasUtf8Sequence(ByteBuffer bytes) {
        int end = bytes.limit();
        for (int i = bytes.position(); i < end; i++) {
            int b = bytes.get(i) & 0xff;
            int more = b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : 0;
            if (more == 0 || i + more >= end) {
                continue;
            }
            boolean whole = true;
            for (int k = 1; k <= more && whole; k++) {
                whole = (bytes.get(i + k) & 0xC0) == 0x80;
            }
            if (whole) {
                return true;
            }
        }
        return false;
    }

    private static String decode(ByteBuffer text, Charset charset) {
        if (text.hasArray()) {
            return new String(text.array(), text.arrayOffset() + text.position(), text.remaining(), charset);
        }
        return charset.decode(text.duplicate()).toString();
    }

    /**
     * Whether bytes that are not UTF-8 look like text of a legacy single-byte charset: no NUL and no
     * control byte but tab, line feed, form feed and carriage return (binary content has them; a
     * Latin-1 or windows-1252 text saved by an older editor has none).
     */
    private static boolean legacyText(ByteBuffer bytes) {
        for (int i = bytes.position(); i < bytes.limit(); i++) {
            int b = bytes.get(i) & 0xff;
            if (b < 0x20 && b != '\t' && b != '\n' && b != '\f' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final byte[] UTF16_BE_BOM = {(byte) 0xFE, (byte) 0xFF};
    private static final byte[] UTF16_LE_BOM = {(byte) 0xFF, (byte) 0xFE};

    /**
     * The charset of text that declares none: UTF-16 when it opens with a UTF-16 byte order mark
     * (Windows' Notepad saves "Unicode" so), else UTF-8.
     */
    private static Charset marked(ByteBuffer bytes) {
        return OfficeText.startsWith(bytes, UTF16_BE_BOM) || OfficeText.startsWith(bytes, UTF16_LE_BOM)
                ? StandardCharsets.UTF_16
                : StandardCharsets.UTF_8;
    }

    /** The chars {@link #text} decodes at a time to check that bytes are UTF-8. */
    private static final int CHECK_WINDOW = 8 * 1024;

    /** {@code e}'s message on one line, cut at {@value #MAX_DETAIL} characters: a failure's reason ends with it. */
    static String detail(Throwable e) {
        String message = e.getMessage() == null || e.getMessage().isBlank()
                ? e.getClass().getSimpleName()
                : e.getMessage().strip().replaceAll("\\s+", " ");
        return message.length() <= MAX_DETAIL ? message : message.substring(0, MAX_DETAIL) + "…";
    }

    /** Bytes of a text kind that are not valid in their charset, or a charset this JVM does not know. */
    private static final class NotText extends Exception {
        NotText(String message) {
            super(message, null, false, false);
        }
    }
}
