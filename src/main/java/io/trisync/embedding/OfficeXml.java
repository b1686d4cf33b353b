package io.trisync.embedding;

import io.trisync.embedding.OfficeLimits.Limit;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The text of one Office part, read as a stream with the JDK's StAX reader: a Word document's or a
 * slide's paragraphs, a workbook's shared strings and a sheet's cells, an OpenDocument's body. Every
 * character read counts against the document's {@link TextBudget}, and a part whose XML declares a DTD
 * is refused (no DTD and no external entity is resolved). See {@link OfficeText} for why streaming.
 */
final class OfficeXml {

    /** The StAX reader factory of every part: no DTD, no external entity, text not coalesced. */
    static final XMLInputFactory XML = xmlFactory();

    /** Counts every character of text read against the document's limit. */
    private final TextBudget budget;

    OfficeXml(TextBudget budget) {
        this.budget = budget;
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
    void paragraphs(InputStream in, StringBuilder text) throws XMLStreamException, Limit {
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
                            case "tab" -> budget.append(text, fallback == 0 && tabStops == 0 && gone == 0 ? "\t" : "");
                            case "br", "cr" -> budget.append(text, fallback == 0 && gone == 0 ? "\n" : "");
                            case "Fallback" -> fallback++;
                            case "del", "moveFrom" -> gone++;
                            case "fld", "r" -> field = generated(xml.getAttributeValue(null, "type"));
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        switch (xml.getLocalName()) {
                            case "t" -> inRun--;
                            case "p" -> budget.append(text, "\n");
                            case "Fallback" -> fallback--;
                            case "tabs", "tabLst" -> tabStops--;
                            case "del", "moveFrom" -> gone--;
                            case "fld", "r" -> field = false;
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (inRun > 0 && fallback == 0 && gone == 0 && !field) {
                            budget.append(text, xml.getText());
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
    List<String> sharedStrings(InputStream in) throws XMLStreamException, Limit {
        List<String> shared = new ArrayList<>();
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
                        budget.hold(item.length());
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
        return shared;
    }

    /**
     * A worksheet: each row's cells, apart by tabs, a line a row. A cell's value ({@code v}) is the
     * index of a shared string ({@code t="s"}), else the value as written (a number, a formula's
     * result); an inline string's runs are its text.
     */
    void sheet(InputStream in, List<String> shared, StringBuilder text) throws XMLStreamException, Limit {
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
                                    budget.append(text, firstCell ? cell : "\t" + cell);
                                    firstCell = false;
                                }
                                value = null;
                            }
                            case "row" -> {
                                if (!firstCell) {
                                    budget.append(text, "\n");
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
    void openDocument(InputStream in, StringBuilder text) throws XMLStreamException, Limit {
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
                                    budget.append(to, " ".repeat(spaces(xml)));
                                }
                            }
                            case "tab" -> budget.append(to, shown ? "\t" : "");
                            case "line-break" -> budget.append(to, shown ? "\n" : "");
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
                                budget.append(to, tracked == 0 ? "\n" : "");
                            }
                            case "table-cell" -> budget.append(to, tracked == 0 ? "\t" : "");
                            case "tracked-changes" -> tracked--;
                            case "note-citation" -> citation--;
                            case "note-body", "annotation" -> aside--;
                            default -> {}
                        }
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (inParagraph > (aside > 0 ? asideBase : 0) && shown) {
                            budget.append(to, xml.getText());
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

    /**
     * The reader's next event: a DTD is refused here (Office parts declare none; its entities would not
     * be resolved, and an entity used later would fail with the parser's message).
     */
    static int next(XMLStreamReader xml) throws XMLStreamException, Limit {
        int event = xml.next();
        if (event == XMLStreamConstants.DTD) {
            throw new Limit(OfficeLimits.DTD);
        }
        return event;
    }

    /** The reason for an XML error: an entity referred to (none is declared, as no DTD is read) says so. */
    static String xmlReason(XMLStreamException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("was referenced, but not declared") || message.contains("DOCTYPE")) {
            return OfficeLimits.DTD;
        }
        return "the document's XML cannot be read: " + message;
    }

    private static XMLInputFactory xmlFactory() {
        XMLInputFactory factory = XMLInputFactory.newDefaultFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        factory.setProperty(XMLInputFactory.IS_COALESCING, false);
        // Errors are thrown to the reader's caller, which gives the file's reason; the JDK's parser
        // would also print each fatal one to stderr, outside the logs.
        factory.setXMLReporter((message, type, related, location) -> {});
        return factory;
    }
}
