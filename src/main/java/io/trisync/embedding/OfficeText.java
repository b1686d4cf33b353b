package io.trisync.embedding;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

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
 * characters likewise (what the order parts hold counts too), more than {@value #MAX_PARTS} slides or
 * sheets or {@value #MAX_ENTRIES} entries is refused, and a part whose XML declares a DTD is refused
 * (no DTD and no external entity is resolved). Legacy binary Office files ({@code .doc},
 * {@code .xls}, {@code .ppt}) are not read. Pure: no I/O besides the bytes given.
 */
final class OfficeText {

    /** Why a file of an Office kind gives no text: its reason, for the file's record. */
    static final class Unreadable extends Exception {
        private final boolean document;

        Unreadable(String reason) {
            this(reason, true);
        }

        Unreadable(String reason, boolean document) {
            super(reason, null, false, false);
            this.document = document;
        }

        /**
         * Whether the file showed itself an Office document (a ZIP holding a document part was seen)
         * before it was found unreadable: false for a file that is no readable ZIP, holds no document
         * part, or passed a limit before one was seen.
         */
        boolean document() {
            return document;
        }
    }

    private static final String WORD = "word/document.xml";
    private static final List<String> WORD_NOTES = List.of("word/footnotes.xml", "word/endnotes.xml");
    private static final Pattern WORD_HEADER = Pattern.compile("word/header(\\d*)\\.xml");
    private static final Pattern WORD_FOOTER = Pattern.compile("word/footer(\\d*)\\.xml");
    private static final String WORD_COMMENTS = "word/comments.xml";
    private static final Pattern SLIDE = Pattern.compile("ppt/slides/slide(\\d+)\\.xml");
    private static final Pattern SHEET = Pattern.compile("xl/worksheets/sheet(\\d+)\\.xml");
    private static final String SHARED_STRINGS = "xl/sharedStrings.xml";
    private static final String WORKBOOK = "xl/workbook.xml";
    private static final String OPEN_DOCUMENT = "content.xml";
    private static final String PRESENTATION = "ppt/presentation.xml";
    private static final String PRESENTATION_RELS = "ppt/_rels/presentation.xml.rels";
    private static final String WORKBOOK_RELS = "xl/_rels/workbook.xml.rels";
    private static final Pattern SLIDE_RELS = Pattern.compile("ppt/slides/_rels/([^/]+)\\.rels");
    private static final Pattern NOTES = Pattern.compile("ppt/notesSlides/notesSlide(\\d+)\\.xml");

    /** How a part is read, and joined: speaker notes follow their slide without a blank line. */
    private enum Kind {
        TEXT,
        SHEET,
        OPEN_DOCUMENT,
        NOTES
    }

    private record Part(String name, Kind kind) {}

    private static final XMLInputFactory XML = xmlFactory();

    /** The most parts (slides, sheets) read: a crafted file of a hundred thousand empty slides is refused. */
    static final int MAX_PARTS = 10_000;

    /** The most entries a file may hold. */
    static final int MAX_ENTRIES = 50_000;

    /** The OLE2 compound file signature: an encrypted DOCX, XLSX or PPTX is such a file, not a ZIP. */
    private static final byte[] OLE2 = {
        (byte) 0xD0, (byte) 0xCF, 0x11, (byte) 0xE0, (byte) 0xA1, (byte) 0xB1, 0x1A, (byte) 0xE1
    };

    private final long maxInflated;
    private final long maxText;
    /** Bytes inflated so far, over every pass: the whole reading is bounded, not each pass. */
    private long inflated;
    /** Characters of text held so far, over every part and the shared strings. */
    private long chars;
    /**
     * What the listing pass read of the order of slides and sheets: the relationship ids of the
     * presentation's slides ({@code p:sldId}) and the workbook's sheets ({@code sheet}), in order, and
     * the targets of the presentation's and workbook's relationships by id; null when absent.
     */
    private List<String> slideIds;

    private List<String> sheetIds;
    private Map<String, String> presentationRels;
    private Map<String, String> workbookRels;
    /** Each slide's notes part, from the slide's relationships. */
    private final Map<String, String> slideNotes = new HashMap<>();

    private OfficeText(long maxInflated, long maxText) {
        this.maxInflated = maxInflated;
        this.maxText = maxText;
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
        if (startsWith(bytes, OLE2)) {
            throw new Unreadable("the document is encrypted (or a legacy binary Office file) and cannot be read"
                    + " without its password");
        }
        List<String> names = new ArrayList<>();
        boolean[] document = {false};
        try {
            each(bytes, (name, in) -> {
                if (names.size() >= MAX_ENTRIES) {
                    throw new Limit("the file holds more than " + MAX_ENTRIES + " entries");
                }
                names.add(name);
                document[0] |= isDocumentPart(name);
                order(name, in);
            });
        } catch (Limit e) {
            throw new Unreadable(e.getMessage(), document[0]);
        } catch (IOException | XMLStreamException e) {
            throw new Unreadable(
                    "the file is not a readable ZIP, as Office documents are: " + e.getMessage(), document[0]);
        }
        List<Part> parts = parts(names);
        Map<String, Kind> wanted = new HashMap<>();
        parts.forEach(part -> wanted.put(part.name(), part.kind()));
        if (parts.isEmpty()) {
            throw new Unreadable(
                    "the file holds no document text part (none of " + WORD + ", ppt/slides/, " + WORKBOOK
                            + " or an OpenDocument " + OPEN_DOCUMENT + ")",
                    false);
        }
        try {
            List<String> shared =
                    names.contains(SHARED_STRINGS) && names.contains(WORKBOOK) ? sharedStrings(bytes) : List.of();
            Map<String, StringBuilder> texts = new HashMap<>();
            each(bytes, (name, in) -> {
                Kind kind = wanted.get(name);
                if (kind != null) {
                    StringBuilder text = new StringBuilder();
                    texts.put(name, text);
                    switch (kind) {
                        case OPEN_DOCUMENT -> openDocument(in, text);
                        case SHEET -> sheet(in, shared, text);
                        default -> paragraphs(in, text);
                    }
                }
            });
            StringBuilder all = new StringBuilder();
            for (Part part : parts) {
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
            throw new Unreadable(xmlReason(e));
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
        int end = -1;
        for (int at = zip.limit() - 22; at >= Math.max(0, zip.limit() - 22 - 0xFFFF); at--) {
            if (zip.getInt(at) == 0x06054b50) {
                end = at;
                break;
            }
        }
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
            if (isDocumentPart(new String(name, StandardCharsets.UTF_8))) {
                return true;
            }
            at += 46L + nameLength + extraLength + commentLength;
        }
        return false;
    }

    /** Whether the entry {@code name} marks the file an Office document of a kind this reads. */
    private static boolean isDocumentPart(String name) {
        return name.equals(WORD)
                || name.equals(WORKBOOK)
                || name.equals(OPEN_DOCUMENT)
                || SLIDE.matcher(name).matches();
    }

    /**
     * The parts that hold the text, in reading order: none when the file is no document this reads.
     * Slides and sheets are in the presentation's and workbook's order where the listing pass read it,
     * else (and for any part it leaves out) in their names' number order; a slide's notes follow it.
     */
    private List<Part> parts(List<String> names) throws Unreadable {
        Set<String> present = new HashSet<>(names);
        if (present.contains(WORD)) {
            List<String> parts = new ArrayList<>(List.of(WORD));
            WORD_NOTES.stream().filter(present::contains).forEach(parts::add);
            // Each header and footer part once, however many sections show it.
            parts.addAll(numbered(names, WORD_HEADER));
            parts.addAll(numbered(names, WORD_FOOTER));
            if (present.contains(WORD_COMMENTS)) {
                parts.add(WORD_COMMENTS);
            }
            return parts.stream().map(name -> new Part(name, Kind.TEXT)).toList();
        }
        List<String> slides = ordered(slideIds, presentationRels, PRESENTATION, present, numbered(names, SLIDE));
        if (!slides.isEmpty()) {
            atMostMaxParts(slides);
            List<Part> parts = new ArrayList<>();
            Set<String> placed = new HashSet<>();
            for (String slide : slides) {
                parts.add(new Part(slide, Kind.TEXT));
                String notes = slideNotes.get(slide);
                if (notes != null && present.contains(notes) && placed.add(notes)) {
                    parts.add(new Part(notes, Kind.NOTES));
                }
            }
            // Notes no slide names (a slide's relationships missing): after the slides, in number order.
            List<String> unplaced = numbered(names, NOTES).stream()
                    .filter(notes -> !placed.contains(notes))
                    .toList();
            atMostMaxParts(unplaced);
            unplaced.forEach(notes -> parts.add(new Part(notes, Kind.TEXT)));
            return parts;
        }
        if (present.contains(WORKBOOK)) {
            List<String> sheets = ordered(sheetIds, workbookRels, WORKBOOK, present, numbered(names, SHEET));
            atMostMaxParts(sheets);
            return sheets.stream().map(name -> new Part(name, Kind.SHEET)).toList();
        }
        return present.contains(OPEN_DOCUMENT) ? List.of(new Part(OPEN_DOCUMENT, Kind.OPEN_DOCUMENT)) : List.of();
    }

    private static void atMostMaxParts(List<String> parts) throws Unreadable {
        if (parts.size() > MAX_PARTS) {
            throw new Unreadable("the document has more than " + MAX_PARTS + " slides or sheets");
        }
    }

    /**
     * The parts {@code ids} name through the relationships {@code rels} of {@code source}, in that
     * order, those of them the file holds (XML parts beside or below {@code source}), then those of
     * {@code byNumber} not among them; {@code byNumber} alone when the ids or relationships are absent.
     */
    private static List<String> ordered(
            List<String> ids, Map<String, String> rels, String source, Set<String> present, List<String> byNumber) {
        if (ids == null || rels == null) {
            return byNumber;
        }
        String folder = source.substring(0, source.lastIndexOf('/') + 1);
        List<String> ordered = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String id : ids) {
            String target = rels.get(id);
            if (target != null) {
                String name = resolve(source, target);
                if (name.startsWith(folder) && name.endsWith(".xml") && present.contains(name) && seen.add(name)) {
                    ordered.add(name);
                }
            }
        }
        for (String name : byNumber) {
            if (seen.add(name)) {
                ordered.add(name);
            }
        }
        return ordered;
    }

    /**
     * The entry a relationship of the part {@code source} targets: {@code target} is relative to the
     * source's folder ({@code slides/slide1.xml}, {@code ../notesSlides/notesSlide1.xml}) or, opening
     * with a slash, to the package's root ({@code /ppt/slides/slide1.xml}).
     */
    static String resolve(String source, String target) {
        String path = target.startsWith("/") ? target : source.substring(0, source.lastIndexOf('/') + 1) + target;
        ArrayDeque<String> segments = new ArrayDeque<>();
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                segments.pollLast();
            } else if (!segment.isEmpty() && !segment.equals(".")) {
                segments.addLast(segment);
            }
        }
        return String.join("/", segments);
    }

    /**
     * In the listing pass, the entry {@code name} if it tells the order of slides or sheets, or a
     * slide's notes: the presentation's slide ids, the workbook's sheet ids, their relationships, a
     * slide's relationships. What they hold counts against the text limit; one whose XML is broken is
     * passed over (the number order stands), one that declares a DTD refuses the document.
     */
    private void order(String name, InputStream in) throws IOException {
        try {
            if (name.equals(PRESENTATION)) {
                slideIds = ids(in, "sldId");
            } else if (name.equals(WORKBOOK)) {
                sheetIds = ids(in, "sheet");
            } else if (name.equals(PRESENTATION_RELS)) {
                presentationRels = relationships(in);
            } else if (name.equals(WORKBOOK_RELS)) {
                workbookRels = relationships(in);
            } else {
                Matcher rels = SLIDE_RELS.matcher(name);
                if (rels.matches()) {
                    String slide = "ppt/slides/" + rels.group(1);
                    for (String target : relationships(in).values()) {
                        String notes = resolve(slide, target);
                        if (NOTES.matcher(notes).matches()) {
                            hold(notes.length());
                            slideNotes.put(slide, notes);
                            break;
                        }
                    }
                }
            }
        } catch (XMLStreamException e) {
            if (e.getNestedException() instanceof IOException io) {
                throw io;
            }
            // Broken: the number order stands.
        }
    }

    /** The relationship ids ({@code r:id}) of the {@code element}s of a presentation or workbook, in order. */
    private List<String> ids(InputStream in, String element) throws XMLStreamException, Limit {
        List<String> ids = new ArrayList<>();
        XMLStreamReader xml = XML.createXMLStreamReader(in);
        try {
            while (xml.hasNext()) {
                if (next(xml) == XMLStreamConstants.START_ELEMENT
                        && xml.getLocalName().equals(element)) {
                    for (int i = 0; i < xml.getAttributeCount(); i++) {
                        String namespace = xml.getAttributeNamespace(i);
                        if (xml.getAttributeLocalName(i).equals("id") && namespace != null && !namespace.isEmpty()) {
                            if (ids.size() >= MAX_PARTS) {
                                throw new Limit("the document has more than " + MAX_PARTS + " slides or sheets");
                            }
                            hold(xml.getAttributeValue(i).length());
                            ids.add(xml.getAttributeValue(i));
                        }
                    }
                }
            }
        } finally {
            xml.close();
        }
        return ids;
    }

    /** A relationships part's internal targets by id. */
    private Map<String, String> relationships(InputStream in) throws XMLStreamException, Limit {
        Map<String, String> targets = new HashMap<>();
        XMLStreamReader xml = XML.createXMLStreamReader(in);
        try {
            while (xml.hasNext()) {
                if (next(xml) == XMLStreamConstants.START_ELEMENT
                        && xml.getLocalName().equals("Relationship")) {
                    String id = xml.getAttributeValue(null, "Id");
                    String target = xml.getAttributeValue(null, "Target");
                    if (id != null
                            && target != null
                            && !"External".equalsIgnoreCase(xml.getAttributeValue(null, "TargetMode"))) {
                        hold(id.length() + target.length());
                        targets.put(id, target);
                    }
                }
            }
        } finally {
            xml.close();
        }
        return targets;
    }

    /**
     * The names {@code pattern} matches, by the number it captures: slide 10 after slide 2 (compared as
     * digits, so a number past a long's is no error; none is 0).
     */
    private static List<String> numbered(List<String> names, Pattern pattern) {
        return names.stream()
                .map(pattern::matcher)
                .filter(Matcher::matches)
                .map(m -> m.group(1).replaceFirst("^0+", "") + "/" + m.group(0))
                .sorted(Comparator.comparingInt((String key) -> key.indexOf('/'))
                        .thenComparing(Comparator.naturalOrder()))
                .map(key -> key.substring(key.indexOf('/') + 1))
                .distinct()
                .toList();
    }

    /**
     * A Word document, footnotes or a slide: the characters of every text run ({@code w:t}, {@code
     * a:t}), a tab for a tab, a line for each paragraph and break. Deleted text of tracked changes
     * ({@code w:delText}) and field codes ({@code w:instrText}) are not text runs and are left out, as
     * is the fallback copy of a text box ({@code mc:Fallback}, the same text for older readers), the
     * old place of a tracked move ({@code w:moveFrom}; its new place, {@code w:moveTo}, is read) with
     * the tabs and breaks of a tracked deletion, and a slide number field ({@code a:fld
     * type="slidenum"}).
     */
    private void paragraphs(InputStream in, StringBuilder text) throws XMLStreamException, Limit {
        XMLStreamReader xml = XML.createXMLStreamReader(in);
        try {
            int inRun = 0;
            int fallback = 0;
            // Tab stop definitions (w:tabs, a:tabLst) hold tab elements that are no text.
            int tabStops = 0;
            // Inside a tracked deletion or a move's old place (w:del, w:moveFrom): no text.
            int gone = 0;
            // Inside a slide number or date field (a:fld type="slidenum", "datetime…"), as a notes page
            // shows them: values the application fills in, not the author's text.
            boolean field = false;
            while (xml.hasNext()) {
                switch (next(xml)) {
                    case XMLStreamConstants.START_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "t" -> inRun++;
                            case "tabs", "tabLst" -> tabStops++;
                            case "tab" -> append(text, fallback == 0 && tabStops == 0 && gone == 0 ? "\t" : "");
                            case "br", "cr" -> append(text, fallback == 0 && gone == 0 ? "\n" : "");
                            case "Fallback" -> fallback++;
                            case "del", "moveFrom" -> gone++;
                            case "fld", "r" -> field = generated(xml.getAttributeValue(null, "type"));
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "t" -> inRun--;
                            case "p" -> append(text, "\n");
                            case "Fallback" -> fallback--;
                            case "tabs", "tabLst" -> tabStops--;
                            case "del", "moveFrom" -> gone--;
                            case "fld", "r" -> field = false;
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (inRun > 0 && fallback == 0 && gone == 0 && !field) {
                            append(text, xml.getText());
                        }
                    }
                    default -> {}
                }
            }
        } finally {
            xml.close();
        }
    }

    /**
     * Whether a field's type ({@code a:fld}, or an {@code a:r} Apache POI writes with a field's type)
     * is a slide number or a date, whose text the application fills in.
     */
    private static boolean generated(String type) {
        return type != null && (type.equals("slidenum") || type.startsWith("datetime"));
    }

    /** A workbook's shared strings, in order: each {@code si}'s runs, without phonetic guides ({@code rPh}). */
    private List<String> sharedStrings(ByteBuffer bytes) throws IOException, XMLStreamException {
        List<String> shared = new ArrayList<>();
        each(bytes, (name, in) -> {
            if (!name.equals(SHARED_STRINGS)) {
                return;
            }
            XMLStreamReader xml = XML.createXMLStreamReader(in);
            try {
                StringBuilder item = null;
                int phonetic = 0;
                while (xml.hasNext()) {
                    int event = next(xml);
                    if (event == XMLStreamConstants.START_ELEMENT) {
                        if (xml.getLocalName().equals("si")) {
                            item = new StringBuilder();
                        } else if (xml.getLocalName().equals("rPh")) {
                            phonetic++;
                        }
                    } else if (event == XMLStreamConstants.END_ELEMENT) {
                        if (xml.getLocalName().equals("si") && item != null) {
                            hold(item.length());
                            shared.add(item.toString());
                            item = null;
                        } else if (xml.getLocalName().equals("rPh")) {
                            phonetic--;
                        }
                    } else if ((event == XMLStreamConstants.CHARACTERS || event == XMLStreamConstants.CDATA)
                            && item != null
                            && phonetic == 0) {
                        item.append(xml.getText());
                    }
                }
            } finally {
                xml.close();
            }
        });
        return shared;
    }

    /**
     * A worksheet: each row's cells, apart by tabs, a line a row. A cell's value ({@code v}) is the
     * index of a shared string ({@code t="s"}), else the value as written (a number, a formula's
     * result); an inline string's runs are its text.
     */
    private void sheet(InputStream in, List<String> shared, StringBuilder text) throws XMLStreamException, Limit {
        XMLStreamReader xml = XML.createXMLStreamReader(in);
        try {
            String type = null;
            StringBuilder value = null;
            boolean firstCell = true;
            while (xml.hasNext()) {
                switch (next(xml)) {
                    case XMLStreamConstants.START_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "row" -> firstCell = true;
                            case "c" -> {
                                type = xml.getAttributeValue(null, "t");
                                value = null;
                            }
                            case "v", "t" -> value = value == null ? new StringBuilder() : value;
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "c" -> {
                                String cell = cell(type, value, shared);
                                if (!cell.isEmpty()) {
                                    append(text, firstCell ? cell : "\t" + cell);
                                    firstCell = false;
                                }
                                value = null;
                            }
                            case "row" -> {
                                if (!firstCell) {
                                    append(text, "\n");
                                }
                            }
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (value != null) {
                            value.append(xml.getText());
                        }
                    }
                    default -> {}
                }
            }
        } finally {
            xml.close();
        }
    }

    private static String cell(String type, StringBuilder value, List<String> shared) {
        if (value == null || "e".equals(type)) {
            return "";
        }
        String written = value.toString().strip();
        if ("s".equals(type)) {
            try {
                int index = Integer.parseInt(written);
                return index >= 0 && index < shared.size() ? shared.get(index) : "";
            } catch (NumberFormatException e) {
                return "";
            }
        }
        if ("b".equals(type)) {
            return "1".equals(written) ? "TRUE" : "FALSE";
        }
        return written;
    }

    /**
     * An OpenDocument's body: the characters of its paragraphs and headings ({@code text:p}, {@code
     * text:h}), a line each, with its spaces ({@code text:s}, {@code text:c} of them), tabs and line
     * breaks; styles, settings and metadata carry no text of the document. Footnotes and endnotes
     * ({@code text:note-body}) and comments ({@code office:annotation}, its paragraphs, not its author
     * and date) sit inside the sentence they annotate: they are taken out of it, each a line after the
     * body, and a note's citation (its number, {@code text:note-citation}) is left out. So are tracked
     * deletions, which a document keeps in {@code text:tracked-changes}.
     */
    private void openDocument(InputStream in, StringBuilder text) throws XMLStreamException, Limit {
        XMLStreamReader xml = XML.createXMLStreamReader(in);
        StringBuilder asides = new StringBuilder();
        try {
            int inParagraph = 0;
            int citation = 0;
            int tracked = 0;
            // Inside a note's body or a comment, and the paragraph depth at which it began.
            int aside = 0;
            int asideBase = 0;
            while (xml.hasNext()) {
                StringBuilder to = aside > 0 ? asides : text;
                boolean shown = tracked == 0 && citation == 0;
                switch (next(xml)) {
                    case XMLStreamConstants.START_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "p", "h" -> inParagraph++;
                            case "s" -> {
                                if (inParagraph > 0 && shown) {
                                    append(to, " ".repeat(spaces(xml)));
                                }
                            }
                            case "tab" -> append(to, shown ? "\t" : "");
                            case "line-break" -> append(to, shown ? "\n" : "");
                            case "tracked-changes" -> tracked++;
                            case "note-citation" -> citation++;
                            case "note-body", "annotation" -> {
                                if (aside++ == 0) {
                                    asideBase = inParagraph;
                                }
                            }
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "p", "h" -> {
                                inParagraph--;
                                append(to, tracked == 0 ? "\n" : "");
                            }
                            case "table-cell" -> append(to, tracked == 0 ? "\t" : "");
                            case "tracked-changes" -> tracked--;
                            case "note-citation" -> citation--;
                            case "note-body", "annotation" -> aside--;
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (inParagraph > (aside > 0 ? asideBase : 0) && shown) {
                            append(to, xml.getText());
                        }
                    }
                    default -> {}
                }
            }
        } finally {
            xml.close();
        }
        if (!asides.isEmpty()) {
            // Counted as they were read; a blank line apart from the body.
            text.append(text.isEmpty() ? "" : "\n").append(asides);
        }
    }

    private static int spaces(XMLStreamReader xml) {
        for (int i = 0; i < xml.getAttributeCount(); i++) {
            if (xml.getAttributeLocalName(i).equals("c")) {
                try {
                    return Math.max(1, Math.min(Integer.parseInt(xml.getAttributeValue(i)), 1000));
                } catch (NumberFormatException e) {
                    return 1;
                }
            }
        }
        return 1;
    }

    /** Why a part whose XML declares a DTD or refers to entities is not read. */
    static final String DTD = "the document's XML declares a DTD or entities, which are not read";

    /**
     * The reader's next event: a DTD is refused here (Office parts declare none; its entities would not
     * be resolved, and an entity used later would fail with the parser's message).
     */
    private static int next(XMLStreamReader xml) throws XMLStreamException, Limit {
        int event = xml.next();
        if (event == XMLStreamConstants.DTD) {
            throw new Limit(DTD);
        }
        return event;
    }

    /** The reason for an XML error: an entity referred to (none is declared, as no DTD is read) says so. */
    private static String xmlReason(XMLStreamException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("was referenced, but not declared") || message.contains("DOCTYPE")) {
            return DTD;
        }
        return "the document's XML cannot be read: " + message;
    }

    private void append(StringBuilder text, String more) throws Limit {
        hold(more.length());
        text.append(more);
    }

    /** Counts {@code n} more characters held against the document's limit. */
    private void hold(long n) throws Limit {
        chars += n;
        if (chars > maxText) {
            throw new Limit("the document's text is longer than " + maxText + " characters");
        }
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

    /** A limit the document passed: its message is the reason. */
    private static final class Limit extends IOException {
        Limit(String message) {
            super(message);
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

    /** The bytes of a buffer as a stream, read in place. */
    private static final class BufferInput extends InputStream {
        private final ByteBuffer bytes;

        BufferInput(ByteBuffer bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return bytes.hasRemaining() ? bytes.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (!bytes.hasRemaining()) {
                return -1;
            }
            int n = Math.min(length, bytes.remaining());
            bytes.get(buffer, offset, n);
            return n;
        }
    }

    private static XMLInputFactory xmlFactory() {
        XMLInputFactory factory = XMLInputFactory.newDefaultFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        factory.setProperty(XMLInputFactory.IS_COALESCING, false);
        return factory;
    }
}
