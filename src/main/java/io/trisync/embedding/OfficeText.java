package io.trisync.embedding;

import io.trisync.embedding.OfficeLimits.Limit;
import io.trisync.embedding.OfficeLimits.Unreadable;
import io.trisync.embedding.OfficeParts.Kind;
import io.trisync.embedding.OfficeParts.Part;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.stream.XMLStreamException;

/**
 * The text of Office Open XML (DOCX, PPTX, XLSX and their macro-enabled, template and slideshow
 * variants) and OpenDocument (ODT, ODP, ODS and templates) files: paragraphs as lines, sheet cells
 * apart by tabs, slides and sheets in their order with a blank line between. Both formats are a ZIP
 * of XML parts, and the text sits in a few elements of a few parts (a Word document's {@code w:t} in
 * {@code word/document.xml}, then its footnotes, endnotes, headers, footers and comments; a slide's
 * {@code a:t}, its speaker notes after it; a sheet's cells and shared strings; an OpenDocument's
 * {@code text:p} and {@code text:h} in {@code content.xml}, its notes and comments after its body);
 * they are read here as a stream (the JDK's ZIP and StAX readers), so what is held is the text, not
 * the document.
 *
 * <p>A ZIP is read in passes, in its entries' order. The first lists the entries and reads the few
 * small parts that give the order: the presentation's slide list ({@code ppt/presentation.xml}) and
 * the workbook's sheet list ({@code xl/workbook.xml}) with their relationships (whose targets name
 * the slide and sheet parts, relative to their folder or absolute), and each slide's relationships
 * (its notes); slides and sheets are read in that order, or their names' number order where those
 * parts are missing or broken. The next passes read the shared strings, then the text parts. Apache
 * POI's extractors, which the tests use to write these files, build each part's whole XML tree
 * first, many times the file's size and beyond what {@code MemoryBudget} accounts a file at, with
 * nothing to stop a part that expands without end.
 *
 * <p>So a file of a few kilobytes that inflates to gigabytes (a ZIP bomb) is refused once its parts
 * have inflated past {@code maxInflated} bytes (over all passes), text beyond {@code maxText}
 * characters likewise (what the order parts hold counts too), more than {@value #OfficeLimits.MAX_PARTS} slides or
 * sheets or {@value #OfficeLimits.MAX_ENTRIES} entries is refused, and a part whose XML declares a OfficeLimits.DTD is refused
 * (no OfficeLimits.DTD and no external entity is resolved). Legacy binary Office files ({@code .doc},
 * {@code .xls}, {@code .ppt}) and encrypted OOXML ones are OLE2 compound files, not ZIPs: {@link
 * LegacyOfficeText} reads those (an XLS or PPT; a DOC it refuses). Pure: no I/O besides the bytes given.
 *
 * <p>This class does the passes and the limits; {@link OfficeParts} picks the parts and their order,
 * {@link OfficeXml} reads each part's text, and {@link TextBudget} counts it.
 */
final class OfficeText {

    private final long maxInflated;
    /** Bytes inflated so far, over every pass: the whole reading is bounded, not each pass. */
    private long inflated;
    /** The parts to read, in order, from what the listing pass reads; the text they hold counted. */
    private final OfficeParts parts;
    /** The readers of each part's text. */
    private final OfficeXml xml;

    private OfficeText(long maxInflated, long maxText) {
        this.maxInflated = maxInflated;
        // One count of the text held, over the order parts, the shared strings and every part.
        TextBudget budget = new TextBudget(maxText);
        this.parts = new OfficeParts(budget);
        this.xml = new OfficeXml(budget);
    }

    /**
     * The text of the Office file {@code bytes} (from position to limit, left as they are), reading
     * at most {@code maxInflated} bytes of its inflated parts and giving at most {@code maxText}
     * characters.
     */
    static String read(ByteBuffer bytes, long maxInflated, long maxText) throws Unreadable {
        return new OfficeText(maxInflated, maxText).read(bytes);
    }

    private String read(ByteBuffer bytes) throws Unreadable {
        List<String> names = new ArrayList<>();
        boolean[] document = {false};
        try {
            each(bytes, (name, in) -> {
                if (names.size() >= OfficeLimits.MAX_ENTRIES) {
                    throw new Limit("the file holds more than " + OfficeLimits.MAX_ENTRIES + " entries");
                }
                names.add(name);
                document[0] |= OfficeParts.isDocumentPart(name);
                parts.order(name, in);
            });
        } catch (Limit e) {
            throw new Unreadable(e.getMessage(), document[0]);
        } catch (IOException | XMLStreamException e) {
            throw new Unreadable(
                    "the file is not a readable ZIP, as Office documents are: " + e.getMessage(), document[0]);
        }
        if (!names.isEmpty() && endRecord(bytes.slice().order(ByteOrder.LITTLE_ENDIAN)) < 0) {
            // The entries read are the ones before the cut: its text would be part of the document's,
            // indexed as if whole.
            throw new Unreadable(
                    "the file is cut short (its ZIP has no end record): an upload or copy that did not finish;"
                            + " its text would be incomplete",
                    document[0]);
        }
        List<Part> reading = parts.parts(names);
        Map<String, Kind> wanted = new HashMap<>();
        reading.forEach(part -> wanted.put(part.name(), part.kind()));
        if (reading.isEmpty()) {
            throw new Unreadable(
                    "the file holds no document text part (none of " + OfficeParts.WORD + ", ppt/slides/, "
                            + OfficeParts.WORKBOOK + " or an OpenDocument " + OfficeParts.OPEN_DOCUMENT + ")",
                    false);
        }
        try {
            List<String> shared = names.contains(OfficeParts.SHARED_STRINGS) && names.contains(OfficeParts.WORKBOOK)
                    ? sharedStrings(bytes)
                    : List.of();
            Map<String, StringBuilder> texts = new HashMap<>();
            each(bytes, (name, in) -> {
                Kind kind = wanted.get(name);
                if (kind != null) {
                    StringBuilder text = new StringBuilder();
                    texts.put(name, text);
                    switch (kind) {
                        case OPEN_DOCUMENT -> xml.openDocument(in, text);
                        case SHEET -> xml.sheet(in, shared, text);
                        default -> xml.paragraphs(in, text);
                    }
                }
            });
            StringBuilder all = new StringBuilder();
            for (Part part : reading) {
                StringBuilder text = texts.get(part.name());
                int start = 0;
                int end = text == null ? 0 : text.length();
                while (start < end && Character.isWhitespace(text.charAt(start))) {
                    start++;
                }
                while (end > start && Character.isWhitespace(text.charAt(end - 1))) {
                    end--;
                }
                if (start < end) {
                    // Its empty paragraphs (a notes page's empty placeholders) around it left out.
                    if (!all.isEmpty() && part.kind() != Kind.NOTES) {
                        all.append('\n');
                    }
                    all.append(text, start, end).append('\n');
                }
            }
            return all.toString().strip();
        } catch (IOException e) {
            throw new Unreadable(
                    e instanceof Limit ? e.getMessage() : "the document cannot be read: " + e.getMessage());
        } catch (XMLStreamException e) {
            throw new Unreadable(OfficeXml.xmlReason(e));
        }
    }

    /**
     * Whether the ZIP {@code bytes} may hold a document part, as its central directory (at its end,
     * read in place, nothing inflated) names its entries: false only when that directory is read whole
     * and names none; true when it does, or cannot be read so (a ZIP64, bytes before the ZIP, a
     * damaged file), for {@link #read} to judge. A ZIP only tried as Office (an archive of a generic
     * type) is thus not inflated to be found no document.
     */
    static boolean mayHoldDocument(ByteBuffer bytes) {
        ByteBuffer zip = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        int end = endRecord(zip);
        if (end < 0) {
            return true;
        }
        int count = zip.getShort(end + 10) & 0xFFFF;
        long offset = zip.getInt(end + 16) & 0xFFFFFFFFL;
        if (count == 0xFFFF || offset == 0xFFFFFFFFL) {
            return true;
        }
        long at = offset;
        for (int i = 0; i < count; i++) {
            if (at + 46 > end || zip.getInt((int) at) != 0x02014b50) {
                return true;
            }
            int nameLength = zip.getShort((int) at + 28) & 0xFFFF;
            int extraLength = zip.getShort((int) at + 30) & 0xFFFF;
            int commentLength = zip.getShort((int) at + 32) & 0xFFFF;
            if (at + 46 + nameLength > end) {
                return true;
            }
            byte[] name = new byte[nameLength];
            zip.get((int) at + 46, name);
            if (OfficeParts.isDocumentPart(new String(name, StandardCharsets.UTF_8))) {
                return true;
            }
            at += 46L + nameLength + extraLength + commentLength;
        }
        return false;
    }

    /**
     * Where the ZIP {@code zip} (little-endian, from 0) has its end of central directory record: the
     * last 22 bytes and its comment, which every ZIP writer puts last; -1 when there is none (the file
     * was cut short).
     */
    private static int endRecord(ByteBuffer zip) {
        for (int at = zip.limit() - 22; at >= Math.max(0, zip.limit() - 22 - 0xFFFF); at--) {
            if (zip.getInt(at) == 0x06054b50 && at + 22 + (zip.getShort(at + 20) & 0xFFFF) <= zip.limit()) {
                return at;
            }
        }
        return -1;
    }

    /** A workbook's shared strings, in order: those of its shared strings part, read in a pass of their own. */
    private List<String> sharedStrings(ByteBuffer bytes) throws IOException, XMLStreamException {
        List<String> shared = new ArrayList<>();
        each(bytes, (name, in) -> {
            if (name.equals(OfficeParts.SHARED_STRINGS)) {
                shared.addAll(xml.sharedStrings(in));
            }
        });
        return shared;
    }

    /** Whether {@code bytes}, from their position, begin with {@code prefix}. */
    static boolean startsWith(ByteBuffer bytes, byte[] prefix) {
        if (bytes.remaining() < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes.get(bytes.position() + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private interface EntryReader {
        void read(String name, InputStream in) throws IOException, XMLStreamException;
    }

    /**
     * Each entry of the ZIP {@code bytes}, all of its inflated bytes (also those its reader leaves)
     * counted against {@code maxInflated}, with those of the passes before.
     */
    private void each(ByteBuffer bytes, EntryReader reader) throws IOException, XMLStreamException {
        byte[] rest = new byte[8192];
        try (ZipInputStream zip = new ZipInputStream(new BufferInput(bytes.duplicate()))) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                Counted in = new Counted(zip);
                reader.read(entry.getName(), in);
                while (in.read(rest, 0, rest.length) >= 0) {
                    // Drained here, counted, rather than inflated uncounted by the next getNextEntry.
                }
            }
        }
    }

    /** An entry's inflated bytes, counted against the document's limit; never closes the ZIP. */
    private final class Counted extends FilterInputStream {
        Counted(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public void close() {
            // The ZIP's next entry follows: only the ZIP is closed, by its reader.
        }

        private void count(int n) throws Limit {
            inflated += n;
            if (inflated > maxInflated) {
                throw new Limit("the document inflates to more than " + maxInflated
                        + " bytes (a ZIP bomb, or a document too large to read)");
            }
        }
    }
}
