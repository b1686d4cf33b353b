package io.trisync.embedding;

import static io.trisync.embedding.OfficeLimits.MAX_PARTS;

import io.trisync.embedding.OfficeLimits.Limit;
import io.trisync.embedding.OfficeLimits.Unreadable;
import java.io.IOException;
import java.io.InputStream;
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
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Which parts of an Office ZIP hold its text, and in what order: a Word document's body, then its
 * footnotes, endnotes, headers, footers and comments; slides in the presentation's order ({@code
 * ppt/presentation.xml} and its relationships), each followed by its speaker notes (from the slide's
 * relationships); sheets in the workbook's order ({@code xl/workbook.xml} and its relationships); an
 * OpenDocument's {@code content.xml}. Slides and sheets fall back to their names' number order where
 * the order parts are missing or broken. {@link OfficeText} feeds it the small order parts in its
 * listing pass ({@link #order}), then asks for the parts to read ({@link #parts}).
 */
final class OfficeParts {

    static final String WORD = "word/document.xml";
    private static final List<String> WORD_NOTES = List.of("word/footnotes.xml", "word/endnotes.xml");
    private static final Pattern WORD_HEADER = Pattern.compile("word/header(\\d*)\\.xml");
    private static final Pattern WORD_FOOTER = Pattern.compile("word/footer(\\d*)\\.xml");
    private static final String WORD_COMMENTS = "word/comments.xml";
    private static final Pattern SLIDE = Pattern.compile("ppt/slides/slide(\\d+)\\.xml");
    private static final Pattern SHEET = Pattern.compile("xl/worksheets/sheet(\\d+)\\.xml");
    static final String SHARED_STRINGS = "xl/sharedStrings.xml";
    static final String WORKBOOK = "xl/workbook.xml";
    static final String OPEN_DOCUMENT = "content.xml";
    private static final String PRESENTATION = "ppt/presentation.xml";
    private static final String PRESENTATION_RELS = "ppt/_rels/presentation.xml.rels";
    private static final String WORKBOOK_RELS = "xl/_rels/workbook.xml.rels";
    private static final Pattern SLIDE_RELS = Pattern.compile("ppt/slides/_rels/([^/]+)\\.rels");
    private static final Pattern NOTES = Pattern.compile("ppt/notesSlides/notesSlide(\\d+)\\.xml");

    /** How a part is read, and joined: speaker notes follow their slide without a blank line. */
    enum Kind {
        TEXT,
        SHEET,
        OPEN_DOCUMENT,
        NOTES
    }

    /** A part to read, by its entry name, and how. */
    record Part(String name, Kind kind) {}

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

    /** Counts what the order parts hold against the document's text limit. */
    private final TextBudget budget;

    OfficeParts(TextBudget budget) {
        this.budget = budget;
    }

    /** Whether the entry {@code name} marks the file an Office document of a kind this reads. */
    static boolean isDocumentPart(String name) {
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
    List<Part> parts(List<String> names) throws Unreadable {
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
    void order(String name, InputStream in) throws IOException {
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
                            budget.hold(notes.length());
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
        XMLStreamReader xml = OfficeXml.XML.createXMLStreamReader(in);
        try {
            while (xml.hasNext()) {
                if (OfficeXml.next(xml) == XMLStreamConstants.START_ELEMENT
                        && xml.getLocalName().equals(element)) {
                    for (int i = 0; i < xml.getAttributeCount(); i++) {
                        String namespace = xml.getAttributeNamespace(i);
                        if (xml.getAttributeLocalName(i).equals("id") && namespace != null && !namespace.isEmpty()) {
                            if (ids.size() >= MAX_PARTS) {
                                throw new Limit("the document has more than " + MAX_PARTS + " slides or sheets");
                            }
                            budget.hold(xml.getAttributeValue(i).length());
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
        XMLStreamReader xml = OfficeXml.XML.createXMLStreamReader(in);
        try {
            while (xml.hasNext()) {
                if (OfficeXml.next(xml) == XMLStreamConstants.START_ELEMENT
                        && xml.getLocalName().equals("Relationship")) {
                    String id = xml.getAttributeValue(null, "Id");
                    String target = xml.getAttributeValue(null, "Target");
                    if (id != null
                            && target != null
                            && !"External".equalsIgnoreCase(xml.getAttributeValue(null, "TargetMode"))) {
                        budget.hold(id.length() + target.length());
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
}
