package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.embedding.TextExtractor.Extraction;
import io.trisync.testsupport.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.poi.sl.usermodel.Placeholder;
import org.apache.poi.wp.usermodel.HeaderFooterType;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFNotes;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFTextBox;
import org.apache.poi.xslf.usermodel.XSLFTextShape;
import org.apache.poi.xssf.usermodel.XSSFRow;
import org.apache.poi.xssf.usermodel.XSSFSheet;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFComment;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFTable;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Office files written by Apache POI (and an OpenDocument by hand, as its specification lays it out) read back as text. */
class OfficeTextTest {

    private final TextExtractor extractor = new TextExtractor();

    /** A Word document: two paragraphs, a run with a tab and a line break, a table. */
    static byte[] docx() {
        try (XWPFDocument doc = new XWPFDocument();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            doc.createParagraph().createRun().setText("Quarterly report");
            var run = doc.createParagraph().createRun();
            run.setText("Revenue rose");
            run.addTab();
            run.setText("by 12 %");
            run.addBreak();
            run.setText("in the north");
            XWPFTable table = doc.createTable(1, 2);
            table.getRow(0).getCell(0).setText("Region");
            table.getRow(0).getCell(1).setText("North");
            doc.write(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    @DisplayName("A DOCX gives its paragraphs as lines, tabs and breaks kept, its table's cells")
    void word() {
        Extraction text = extractor.extract(
                docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "report.docx");
        assertThat(text.failed()).as(text.failure()).isFalse();
        assertThat(text.text()).isEqualTo("Quarterly report\nRevenue rose\tby 12 %\nin the north\nRegion\nNorth");
    }

    @Test
    @DisplayName("A PPTX gives its slides in their order (slide 10 after slide 2), a line a paragraph, a blank"
            + " line between slides")
    void slides() throws IOException {
        byte[] bytes;
        try (XMLSlideShow show = new XMLSlideShow();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (int i = 1; i <= 11; i++) {
                XSLFTextBox box = show.createSlide().createTextBox();
                box.setText("Slide " + i + " title");
                box.addNewTextParagraph().addNewTextRun().setText("point " + i);
            }
            show.write(out);
            bytes = out.toByteArray();
        }
        Extraction text = extractor.extract(bytes, "application/octet-stream", "deck.pptx");
        assertThat(text.failed()).as(text.failure()).isFalse();
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 11; i++) {
            expected.append("Slide ")
                    .append(i)
                    .append(" title\npoint ")
                    .append(i)
                    .append("\n\n");
        }
        assertThat(text.text()).isEqualTo(expected.toString().strip());
    }

    @Test
    @DisplayName("An XLSX gives each sheet's rows, cells apart by tabs (shared strings, numbers and booleans), a"
            + " blank line between sheets")
    void workbook() throws IOException {
        byte[] bytes;
        try (XSSFWorkbook book = new XSSFWorkbook();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            XSSFSheet first = book.createSheet("Sales");
            XSSFRow head = first.createRow(0);
            head.createCell(0).setCellValue("Product");
            head.createCell(1).setCellValue("Units");
            XSSFRow row = first.createRow(1);
            row.createCell(0).setCellValue("Widget");
            row.createCell(1).setCellValue(42);
            row.createCell(2).setCellValue(true);
            book.createSheet("Notes").createRow(0).createCell(0).setCellValue("Widget is a trademark");
            book.write(out);
            bytes = out.toByteArray();
        }
        Extraction text = extractor.extract(
                bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "sales.xlsx");
        assertThat(text.failed()).as(text.failure()).isFalse();
        assertThat(text.text()).isEqualTo("Product\tUnits\nWidget\t42.0\tTRUE\n\nWidget is a trademark");
    }

    @Test
    @DisplayName("An ODT gives its headings and paragraphs, spaces (text:s) and tabs kept, styles left out")
    void openDocument() {
        String content = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + "<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
                + " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
                + " xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\">"
                + "<office:automatic-styles><style:style style:name=\"P1\">not text</style:style></office:automatic-styles>"
                + "<office:body><office:text>"
                + "<text:h text:outline-level=\"1\">Minutes</text:h>"
                + "<text:p>Present:<text:s text:c=\"3\"/>Ann<text:tab/>Bob</text:p>"
                + "<text:p>Next meeting <text:span>Friday</text:span></text:p>"
                + "</office:text></office:body></office:document-content>";
        byte[] odt = zip(Map.of(
                "mimetype", "application/vnd.oasis.opendocument.text",
                "content.xml", content,
                "styles.xml", "<office:document-styles xmlns:office=\"urn:x\">styled</office:document-styles>"));
        Extraction text = extractor.extract(odt, "application/vnd.oasis.opendocument.text", "minutes.odt");
        assertThat(text.failed()).as(text.failure()).isFalse();
        assertThat(text.text()).isEqualTo("Minutes\nPresent:   Ann\tBob\nNext meeting Friday");
    }

    @Test
    @DisplayName("A ZIP that inflates past the limit, or text past its limit, fails with the reason; the reading"
            + " stops there")
    void limits() {
        String words = "word ".repeat(200_000);
        byte[] bomb = zip(Map.of(
                "word/document.xml",
                "<w:document xmlns:w=\"urn:w\"><w:body><w:p><w:t>" + words + "</w:t></w:p></w:body></w:document>"));
        assertThat(bomb.length)
                .as("a megabyte of words compresses to a few kilobytes")
                .isLessThan(10_000);
        assertThatThrownBy(() -> OfficeText.read(ByteBuffer.wrap(bomb), 100_000, Long.MAX_VALUE))
                .isInstanceOf(OfficeLimits.Unreadable.class)
                .hasMessage("the document inflates to more than 100000 bytes (a ZIP bomb, or a document too large"
                        + " to read)");
        assertThatThrownBy(() -> OfficeText.read(ByteBuffer.wrap(bomb), Long.MAX_VALUE, 50_000))
                .isInstanceOf(OfficeLimits.Unreadable.class)
                .hasMessage("the document's text is longer than 50000 characters");
        // Every entry counts, also one no reader wants (inflated to be skipped).
        byte[] padded = zip(Map.of(
                "word/document.xml",
                "<w:document xmlns:w=\"urn:w\"><w:p><w:t>hi</w:t></w:p></w:document>",
                "word/media/filler.bin",
                words));
        assertThatThrownBy(() -> OfficeText.read(ByteBuffer.wrap(padded), 100_000, Long.MAX_VALUE))
                .hasMessageStartingWith("the document inflates to more than 100000 bytes");
    }

    @Test
    @DisplayName("A DTD's entities are not resolved (no external file read into the text); a file that is no"
            + " Office document fails saying what it lacks")
    void refusals() {
        byte[] xxe = zip(Map.of(
                "word/document.xml",
                "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                        + "<w:document xmlns:w=\"urn:w\"><w:p><w:t>a &x; b</w:t></w:p></w:document>"));
        Extraction entity = extractor.extract(xxe, null, "x.docx");
        assertThat(entity.text()).doesNotContain("root");
        assertThat(entity.failure()).isEqualTo(OfficeLimits.DTD);
        Extraction notZip = extractor.extract("plain".getBytes(StandardCharsets.UTF_8), null, "fake.docx");
        assertThat(notZip.failure())
                .isEqualTo("the file holds no document text part (none of word/document.xml, ppt/slides/,"
                        + " xl/workbook.xml or an OpenDocument content.xml)");
        Extraction otherZip = extractor.extract(zip(Map.of("readme.txt", "hello")), null, "archive.xlsx");
        assertThat(otherZip.failed()).isTrue();
    }

    @Test
    @DisplayName("The text limit is the document's, not each part's: shared strings repeated over many sheets stop"
            + " there (a 3 KB workbook gave 150 million characters)")
    void textLimitIsTheDocuments() {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("xl/workbook.xml", "<workbook/>");
        entries.put("xl/sharedStrings.xml", "<sst><si><t>" + "x".repeat(100_000) + "</t></si></sst>");
        String row = "<row>" + "<c t=\"s\"><v>0</v></c>".repeat(5) + "</row>";
        for (int sheet = 1; sheet <= 10; sheet++) {
            entries.put(
                    "xl/worksheets/sheet" + sheet + ".xml",
                    "<worksheet><sheetData>" + row + "</sheetData></worksheet>");
        }
        byte[] book = zip(entries);
        assertThatThrownBy(() -> OfficeText.read(ByteBuffer.wrap(book), Long.MAX_VALUE, 1_000_000))
                .as("each sheet holds 500,000 characters, all ten 5 million")
                .hasMessage("the document's text is longer than 1000000 characters");
    }

    @Test
    @DisplayName("A file of more slides than the limit is refused without reading them; an encrypted document says"
            + " so; tab stop definitions are no tabs of the text")
    void partsEncryptionAndTabStops() throws Exception {
        Map<String, String> slides = new LinkedHashMap<>();
        for (int i = 1; i <= OfficeLimits.MAX_PARTS + 1; i++) {
            slides.put("ppt/slides/slide" + i + ".xml", "<sld/>");
        }
        assertThat(extractor.extract(zip(slides), null, "many.pptx").failure())
                .isEqualTo("the document has more than 10000 slides or sheets");
        // An encrypted DOCX is an OLE2 compound file (EncryptionInfo, EncryptedPackage), not a ZIP.
        byte[] encrypted = LegacyOfficeTextTest.encryptedDocx();
        assertThat(extractor.extract(encrypted, null, "locked.docx").failure()).startsWith("the document is encrypted");
        byte[] tabStops = zip(Map.of(
                "word/document.xml",
                "<w:document xmlns:w=\"urn:w\"><w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs>"
                        + "</w:pPr><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r></w:p></w:document>"));
        assertThat(extractor.extract(tabStops, null, "t.docx")).isEqualTo(Extraction.of("a\tb"));
    }

    private static final String W = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

    @Test
    @DisplayName("A PPTX's slides and an XLSX's sheets are read in the presentation's and workbook's order, not"
            + " their files' numbers; absolute targets resolve; without the order parts, number order")
    void presentationAndWorkbookOrder() throws IOException {
        byte[] deck;
        try (XMLSlideShow show = new XMLSlideShow();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (String title : List.of("first", "second", "third")) {
                show.createSlide().createTextBox().setText(title);
            }
            show.setSlideOrder(show.getSlides().get(2), 0);
            show.write(out);
            deck = out.toByteArray();
        }
        assertThat(extractor.extract(deck, null, "deck.pptx")).isEqualTo(Extraction.of("third\n\nfirst\n\nsecond"));
        byte[] book;
        try (XSSFWorkbook workbook = new XSSFWorkbook();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (String name : List.of("A", "B", "C")) {
                workbook.createSheet(name).createRow(0).createCell(0).setCellValue("sheet " + name);
            }
            workbook.setSheetOrder("C", 0);
            workbook.write(out);
            book = out.toByteArray();
        }
        assertThat(extractor.extract(book, null, "book.xlsx"))
                .isEqualTo(Extraction.of("sheet C\n\nsheet A\n\nsheet B"));
        String r = "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";
        Map<String, String> absolute = new LinkedHashMap<>();
        absolute.put(
                "ppt/slides/slide1.xml",
                "<p:sld xmlns:p=\"urn:p\" xmlns:a=\"urn:a\"><a:p><a:t>one</a:t></a:p></p:sld>");
        absolute.put(
                "ppt/slides/slide2.xml",
                "<p:sld xmlns:p=\"urn:p\" xmlns:a=\"urn:a\"><a:p><a:t>two</a:t></a:p></p:sld>");
        absolute.put(
                "ppt/presentation.xml",
                "<p:presentation xmlns:p=\"urn:p\" " + r + "><p:sldIdLst><p:sldId id=\"256\" r:id=\"rId7\"/>"
                        + "<p:sldId id=\"257\" r:id=\"rId3\"/></p:sldIdLst></p:presentation>");
        absolute.put(
                "ppt/_rels/presentation.xml.rels",
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                        + "<Relationship Id=\"rId3\" Type=\"t/slide\" Target=\"/ppt/slides/slide1.xml\"/>"
                        + "<Relationship Id=\"rId7\" Type=\"t/slide\" Target=\"./slides/../slides/slide2.xml\"/>"
                        + "</Relationships>");
        assertThat(extractor.extract(zip(absolute), null, "a.pptx")).isEqualTo(Extraction.of("two\n\none"));
        absolute.remove("ppt/_rels/presentation.xml.rels");
        assertThat(extractor.extract(zip(absolute), null, "a.pptx")).isEqualTo(Extraction.of("one\n\ntwo"));
    }

    @Test
    @DisplayName("A PPTX's speaker notes are read after their slide, without the slide number field")
    void speakerNotes() throws IOException {
        byte[] deck;
        try (XMLSlideShow show = new XMLSlideShow();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (String title : List.of("first", "second")) {
                XSLFSlide slide = show.createSlide();
                slide.createTextBox().setText(title);
                XSLFNotes notes = show.getNotesSlide(slide);
                for (XSLFTextShape shape : notes.getPlaceholders()) {
                    if (shape.getTextType() == Placeholder.BODY) {
                        shape.setText("say " + title);
                    }
                }
            }
            show.setSlideOrder(show.getSlides().get(1), 0);
            show.write(out);
            deck = out.toByteArray();
        }
        assertThat(extractor.extract(deck, null, "deck.pptx"))
                .isEqualTo(Extraction.of("second\nsay second\n\nfirst\nsay first"));
        Map<String, String> handmade = new LinkedHashMap<>();
        handmade.put(
                "ppt/slides/slide1.xml",
                "<p:sld xmlns:p=\"urn:p\" xmlns:a=\"urn:a\"><a:p><a:t>one</a:t></a:p></p:sld>");
        handmade.put(
                "ppt/notesSlides/notesSlide1.xml",
                "<p:notes xmlns:p=\"urn:p\" xmlns:a=\"urn:a\"><a:p><a:r><a:t>remember</a:t></a:r></a:p>"
                        + "<a:p><a:fld id=\"{1}\" type=\"slidenum\"><a:t>1</a:t></a:fld></a:p></p:notes>");
        assertThat(extractor.extract(zip(handmade), null, "n.pptx")).isEqualTo(Extraction.of("one\n\nremember"));
    }

    @Test
    @DisplayName("A DOCX's headers, footers and comments are read after its body, once each")
    void headersFootersAndComments() throws IOException {
        byte[] bytes;
        try (XWPFDocument doc = new XWPFDocument();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            doc.createParagraph().createRun().setText("Body text");
            doc.createParagraph().createRun().setText("More body");
            doc.createHeader(HeaderFooterType.DEFAULT)
                    .createParagraph()
                    .createRun()
                    .setText("Confidential");
            doc.createFooter(HeaderFooterType.DEFAULT)
                    .createParagraph()
                    .createRun()
                    .setText("Acme Ltd");
            XWPFComment comment = doc.createComments().createComment(BigInteger.ONE);
            comment.setAuthor("Ann");
            comment.createParagraph().createRun().setText("Check the figures");
            doc.write(out);
            bytes = out.toByteArray();
        }
        Extraction text = extractor.extract(bytes, null, "memo.docx");
        assertThat(text)
                .isEqualTo(Extraction.of("Body text\nMore body\n\nConfidential\n\nAcme Ltd\n\nCheck the figures"));
    }

    @Test
    @DisplayName("A DOCX's tracked move is read once, at its new place (w:moveFrom left out)")
    void trackedMove() {
        byte[] moved = zip(Map.of(
                "word/document.xml",
                "<w:document " + W + "><w:body><w:p>"
                        + "<w:moveFrom w:id=\"1\" w:author=\"A\"><w:r><w:t>Later</w:t></w:r><w:r><w:tab/></w:r>"
                        + "</w:moveFrom><w:r><w:t>First</w:t></w:r></w:p><w:p><w:moveTo w:id=\"2\" w:author=\"A\">"
                        + "<w:r><w:t>Later</w:t></w:r></w:moveTo></w:p></w:body></w:document>"));
        assertThat(extractor.extract(moved, null, "m.docx")).isEqualTo(Extraction.of("First\nLater"));
    }

    @Test
    @DisplayName("An ODT's notes and comments are lines after its body, not spliced into the sentence; its note"
            + " citations and tracked deletions are left out")
    void openDocumentNotesCommentsAndDeletions() {
        String content = "<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
                + " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
                + " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><office:body><office:text>"
                + "<text:tracked-changes><text:changed-region text:id=\"c1\"><text:deletion><office:change-info>"
                + "<dc:creator>Bob</dc:creator></office:change-info><text:p>Removed words</text:p></text:deletion>"
                + "</text:changed-region></text:tracked-changes>"
                + "<text:p>The results<text:note text:note-class=\"footnote\"><text:note-citation>1</text:note-citation>"
                + "<text:note-body><text:p>Measured in May.</text:p></text:note-body></text:note> were good."
                + "<office:annotation><dc:creator>Ann</dc:creator><dc:date>2024-01-01</dc:date>"
                + "<text:p>Which results?</text:p></office:annotation><text:change text:change-id=\"c1\"/></text:p>"
                + "<text:p>Second paragraph<text:note text:note-class=\"endnote\"><text:note-citation>i</text:note-citation>"
                + "<text:note-body><text:p>An endnote.</text:p></text:note-body></text:note></text:p>"
                + "</office:text></office:body></office:document-content>";
        byte[] odt = zip(Map.of("mimetype", "application/vnd.oasis.opendocument.text", "content.xml", content));
        assertThat(extractor.extract(odt, null, "r.odt"))
                .isEqualTo(Extraction.of(
                        "The results were good.\nSecond paragraph\n\nMeasured in May.\nWhich results?\nAn endnote."));
    }

    @Test
    @DisplayName("Office variants (macro-enabled, templates, slideshows) are read by type or name; a ZIP of a generic"
            + " type is tried as Office, and one holding no document is a kind without text")
    void variantsAndSniffedZips() {
        byte[] word = docx();
        String expected = "Quarterly report\nRevenue rose\tby 12 %\nin the north\nRegion\nNorth";
        for (String name : List.of("a.docm", "a.dotx", "a.dotm", "A.DOCM")) {
            assertThat(extractor.extract(word, null, name)).as(name).isEqualTo(Extraction.of(expected));
        }
        for (String type : List.of(
                "application/vnd.ms-word.document.macroEnabled.12",
                "application/vnd.ms-word.template.macroEnabled.12",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.template")) {
            assertThat(extractor.extract(word, type, "upload")).as(type).isEqualTo(Extraction.of(expected));
        }
        for (String name : List.of(
                "a.pptm", "a.ppsx", "a.ppsm", "a.potx", "a.xlsm", "a.xltx", "a.xltm", "a.ott", "a.ots", "a.otp")) {
            assertThat(TextExtractor.kind(null, name, null)).as(name).isEqualTo("office");
        }
        for (String type : List.of(
                "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
                "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
                "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
                "application/vnd.openxmlformats-officedocument.presentationml.template",
                "application/vnd.ms-excel.sheet.macroEnabled.12",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
                "application/vnd.ms-excel.template.macroEnabled.12",
                "application/vnd.oasis.opendocument.text-template",
                "application/vnd.oasis.opendocument.spreadsheet-template",
                "application/vnd.oasis.opendocument.presentation-template")) {
            assertThat(TextExtractor.kind(type, "upload", null)).as(type).isEqualTo("office");
        }
        for (String type :
                new String[] {null, "", "application/octet-stream", "application/zip", "binary/octet-stream"}) {
            assertThat(extractor.extract(word, type, "upload")).as(type).isEqualTo(Extraction.of(expected));
            assertThat(extractor.extract(zip(Map.of("readme.txt", "hello")), type, "archive.zip"))
                    .as(type)
                    .isEqualTo(Extraction.NONE);
        }
        assertThat(extractor.extract("PK\u0003\u0004 broken".getBytes(StandardCharsets.ISO_8859_1), null, "x"))
                .isEqualTo(Extraction.NONE);
        assertThat(extractor.extract(word, "image/jpeg", "photo")).isEqualTo(Extraction.NONE);
    }

    @Test
    @DisplayName("A file declared an image, audio, video or font is not made a document by its name (PDF bytes"
            + " still are a PDF)")
    void declaredMediaIsNoDocument() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0};
        for (String type : List.of("image/png", "audio/mpeg", "video/mp4", "font/woff2", "IMAGE/PNG; x=y")) {
            assertThat(extractor.extract(png, type, "x.docx")).as(type).isEqualTo(Extraction.NONE);
            assertThat(extractor.extract(png, type, "x.pdf")).as(type).isEqualTo(Extraction.NONE);
        }
        Extraction pdf = extractor.extract(Fixtures.pdf("Inside a PDF"), "image/png", "scan.png");
        assertThat(pdf.failed()).isFalse();
        assertThat(pdf.text()).contains("Inside a PDF");
    }

    @Test
    @DisplayName("A part whose XML declares a DTD or uses entities is refused with a clear reason, not the parser's")
    void dtdReason() {
        byte[] entity = zip(Map.of(
                "word/document.xml",
                "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY co \"Contoso\">]>" + "<w:document " + W
                        + "><w:p><w:t>&co;</w:t></w:p></w:document>"));
        assertThat(extractor.extract(entity, null, "e.docx").failure())
                .isEqualTo("the document's XML declares a DTD or entities, which are not read");
        byte[] undeclared =
                zip(Map.of("word/document.xml", "<w:document " + W + "><w:p><w:t>a &co; b</w:t></w:p></w:document>"));
        assertThat(extractor.extract(undeclared, null, "e.docx").failure())
                .isEqualTo("the document's XML declares a DTD or entities, which are not read");
    }

    @Test
    @DisplayName("Slides numbered past a long's range are ordered by their digits, not refused with a parse error")
    void hugePartNumbers() {
        Map<String, String> slides = new LinkedHashMap<>();
        slides.put("ppt/slides/slide99999999999999999999.xml", "<sld><p><t>last</t></p></sld>");
        slides.put("ppt/slides/slide2.xml", "<sld><p><t>first</t></p></sld>");
        assertThat(extractor.extract(zip(slides), null, "big.pptx")).isEqualTo(Extraction.of("first\n\nlast"));
    }

    @Test
    @DisplayName("A ZIP's central directory tells, without inflating, whether it may hold a document part; one"
            + " it cannot read so is left to the reading")
    void centralDirectory() {
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(docx()))).isTrue();
        byte[] archive = zip(Map.of("readme.txt", "hello", "data/content.xml.bak", "x"));
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(archive))).isFalse();
        byte[] odt = zip(Map.of("mimetype", "application/vnd.oasis.opendocument.text", "content.xml", "<d/>"));
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(odt))).isTrue();
        byte[] cut = java.util.Arrays.copyOf(archive, archive.length - 10);
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(cut))).isTrue();
        byte[] prefixed = new byte[archive.length + 7];
        System.arraycopy(archive, 0, prefixed, 7, archive.length);
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(prefixed, 7, archive.length)))
                .as("read from the buffer's position")
                .isFalse();
        assertThat(OfficeText.mayHoldDocument(ByteBuffer.wrap(new byte[] {'P', 'K', 3, 4})))
                .isTrue();
    }

    @Test
    @DisplayName("A document cut short anywhere (an upload or copy that did not finish) gives no text, never the"
            + " text of the entries before the cut as if it were whole; one with bytes after its end is read")
    void cutShortGivesNoText() {
        String type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        byte[] whole = docx();
        for (int length = 30; length < whole.length; length += 53) {
            Extraction cut = extractor.extract(java.util.Arrays.copyOf(whole, length), type, "report.docx");
            assertThat(cut.failed())
                    .as("cut at %d of %d: %s", length, whole.length, cut.text())
                    .isTrue();
        }
        // Cut just before its central directory: every entry whole, the file still not.
        ByteBuffer end = ByteBuffer.wrap(whole, whole.length - 22, 22).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int directory = end.getInt(whole.length - 22 + 16);
        Extraction entries = extractor.extract(java.util.Arrays.copyOf(whole, directory), type, "report.docx");
        assertThat(entries.failure()).startsWith("the file is cut short");
        byte[] padded = java.util.Arrays.copyOf(whole, whole.length + 100);
        assertThat(extractor.extract(padded, type, "report.docx").text()).startsWith("Quarterly report");
    }

    private static byte[] zip(Map<String, String> entries) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream();
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, String> entry : new LinkedHashMap<>(entries).entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
            zip.finish();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
