package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.embedding.TextExtractor.Extraction;
import io.trisync.testsupport.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.poi.hslf.usermodel.HSLFSlide;
import org.apache.poi.hslf.usermodel.HSLFSlideShow;
import org.apache.poi.hslf.usermodel.HSLFTextBox;
import org.apache.poi.hssf.record.crypto.Biff8EncryptionKey;
import org.apache.poi.hssf.usermodel.HSSFRow;
import org.apache.poi.hssf.usermodel.HSSFSheet;
import org.apache.poi.hssf.usermodel.HSSFWorkbook;
import org.apache.poi.poifs.crypt.EncryptionInfo;
import org.apache.poi.poifs.crypt.EncryptionMode;
import org.apache.poi.poifs.crypt.Encryptor;
import org.apache.poi.poifs.filesystem.POIFSFileSystem;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Office 97-2003 files (and encrypted OOXML ones, which are OLE2 compound files too) read back as
 * text: workbooks and presentations written by Apache POI here. Word documents and Excel 5.0/95
 * workbooks, which POI cannot write, are refused, told by their streams.
 */
class LegacyOfficeTextTest {

    private final TextExtractor extractor = new TextExtractor();

    @Test
    @DisplayName("An XLS gives each worksheet's rows, cells apart by tabs (strings, numbers, booleans, a formula's"
            + " cached string), a blank line between worksheets that have text")
    void workbook() {
        Extraction text = extractor.extract(xls(), "application/vnd.ms-excel", "sales.xls");
        assertThat(text.failed()).as(text.failure()).isFalse();
        assertThat(text.text()).isEqualTo("Product\tUnits\nWidget\t42\t2.5\tTRUE\tlighthouse\n\nWidget is a trademark");
    }

    @Test
    @DisplayName("A PPT gives its slides' text in their order")
    void slides() {
        Extraction text = extractor.extract(ppt("Lighthouse restoration", "Budget approved"), null, "deck.ppt");
        assertThat(text.failed()).as(text.failure()).isFalse();
        assertThat(text.text()).contains("Slide 1: Lighthouse restoration").contains("Slide 2: Budget approved");
        assertThat(text.text().indexOf("Slide 1")).isLessThan(text.text().indexOf("Slide 2"));
    }

    @Test
    @DisplayName("The kind is told by the compound file's streams, their names in any case: an XLS sent as"
            + " octet-stream without a name, or under another name, is read")
    void detectedByContent() throws IOException {
        byte[] book = Fixtures.xls("Quarterly figures");
        assertThat(extractor.extract(book, "application/octet-stream", null))
                .isEqualTo(Extraction.of("Quarterly figures"));
        assertThat(extractor.extract(book, null, "upload.bin")).isEqualTo(Extraction.of("Quarterly figures"));
        assertThat(extractor.extract(book, "application/msword", "misnamed.doc"))
                .isEqualTo(Extraction.of("Quarterly figures"));
        // Stream names in another case, as some writers give them, are found as POI finds them.
        assertThat(extractor.extract(renamed(book, "Workbook", "WORKBOOK"), null, "upper.xls"))
                .isEqualTo(Extraction.of("Quarterly figures"));
        assertThat(extractor
                        .extract(compound("worddocument"), null, "lower.doc")
                        .failure())
                .isEqualTo(LegacyOfficeText.WORD_NOT_READ);
        assertThat(extractor.extract(compound("BOOK"), null, "upper.xls").failure())
                .isEqualTo(LegacyOfficeText.OLD_EXCEL_NOT_READ);
        // A CSV a browser types as Excel's is still text.
        assertThat(extractor.extract(Fixtures.utf8("a,b"), "application/vnd.ms-excel", "x.csv"))
                .isEqualTo(Extraction.of("a,b"));
    }

    @Test
    @DisplayName("Password-protected XLS and PPT files and an encrypted DOCX fail saying they are encrypted; an"
            + " XLS protected only against writing is read")
    void encrypted() throws Exception {
        byte[] book;
        byte[] deck;
        Biff8EncryptionKey.setCurrentUserPassword("secret");
        try {
            book = xls();
            deck = ppt("Hidden slide");
        } finally {
            Biff8EncryptionKey.setCurrentUserPassword(null);
        }
        byte[] writeProtected;
        // Excel's password for a workbook protected only against writing, which it opens without asking.
        Biff8EncryptionKey.setCurrentUserPassword("VelvetSweatshop");
        try {
            writeProtected = Fixtures.xls("Readable without a password");
        } finally {
            Biff8EncryptionKey.setCurrentUserPassword(null);
        }
        assertThat(new String(writeProtected, StandardCharsets.ISO_8859_1))
                .as("encrypted")
                .doesNotContain("Readable without");
        assertThat(new String(Fixtures.xls("Readable without a password"), StandardCharsets.ISO_8859_1))
                .contains("Readable without");
        assertThat(extractor.extract(writeProtected, null, "protected.xls"))
                .isEqualTo(Extraction.of("Readable without a password"));
        assertThat(extractor
                        .extract(book, "application/vnd.ms-excel", "locked.xls")
                        .failure())
                .isEqualTo(LegacyOfficeText.ENCRYPTED);
        assertThat(extractor.extract(deck, null, "locked.ppt").failure()).isEqualTo(LegacyOfficeText.ENCRYPTED);
        // What an encrypted OOXML gave before legacy files were read, kept; now as well without a name.
        byte[] docx = encryptedDocx();
        assertThat(extractor.extract(docx, null, "locked.docx").failure()).isEqualTo(LegacyOfficeText.ENCRYPTED);
        assertThat(extractor.extract(docx, "application/octet-stream", null).failure())
                .isEqualTo(LegacyOfficeText.ENCRYPTED);
    }

    @Test
    @DisplayName("An OLE2 file that holds no Office document has no text when only tried, and fails when declared"
            + " one; a damaged one fails saying so; a Word document and an Excel 5.0/95 workbook are refused, whatever"
            + " their name or type")
    void foreignDamagedAndOld() throws IOException {
        byte[] foreign = compound("__substg1.0_0037001F");
        assertThat(extractor.extract(foreign, "application/octet-stream", "mail.msg"))
                .isEqualTo(Extraction.NONE);
        assertThat(extractor.extract(foreign, "application/msword", "mail.doc").failure())
                .isEqualTo("the OLE2 compound file holds no Word, Excel or PowerPoint document (none of the streams"
                        + " WordDocument, Workbook or PowerPoint Document; it holds __substg1.0_0037001F)");
        byte[] header = {(byte) 0xD0, (byte) 0xCF, 0x11, (byte) 0xE0, (byte) 0xA1, (byte) 0xB1, 0x1A, (byte) 0xE1, 0, 0
        };
        assertThat(extractor.extract(header, null, "locked.docx").failure())
                .startsWith("the file opens as an OLE2 compound file (a legacy Office file, or an encrypted one) but"
                        + " cannot be read as one, damaged or cut short: ");
        byte[] cut = Arrays.copyOf(Fixtures.xls("whole"), 1000);
        assertThat(extractor.extract(cut, null, "cut.xls").failed()).isTrue();
        byte[] word = compound("WordDocument");
        assertThat(extractor.extract(word, "application/msword", "minutes.doc").failure())
                .isEqualTo("the file is a Word document (.doc, Word 97-2003 or older), which is not read: save it"
                        + " as .docx");
        assertThat(extractor.extract(word, "application/octet-stream", null).failure())
                .isEqualTo(LegacyOfficeText.WORD_NOT_READ);
        assertThat(extractor.extract(word, null, "misnamed.xls").failure()).isEqualTo(LegacyOfficeText.WORD_NOT_READ);
        byte[] book = compound("Book");
        assertThat(extractor
                        .extract(book, "application/vnd.ms-excel", "old.xls")
                        .failure())
                .isEqualTo("the file is an Excel workbook of a version before 97 (Excel 5.0/95 or older), which is"
                        + " not read: save it as .xlsx");
        assertThat(extractor.extract(book, null, "upload.bin").failure())
                .isEqualTo(LegacyOfficeText.OLD_EXCEL_NOT_READ);
        // Refused by its streams, before anything of it is read: even a model-size limit of one byte is not reached.
        assertThatThrownBy(() -> LegacyOfficeText.read(ByteBuffer.wrap(word), 1_000_000, 1))
                .hasMessage(LegacyOfficeText.WORD_NOT_READ);
    }

    @Test
    @DisplayName("A workbook's text stops at the limit as it is read (a shared string many cells repeat); a"
            + " presentation's text past it is refused")
    void textLimit() {
        byte[] repeated;
        try (HSSFWorkbook book = new HSSFWorkbook();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            HSSFSheet sheet = book.createSheet("S");
            String longText = "x".repeat(30_000);
            for (int r = 0; r < 200; r++) {
                sheet.createRow(r).createCell(0).setCellValue(longText);
            }
            book.write(out);
            repeated = out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(repeated.length).as("one shared string, 200 cells").isLessThan(100_000);
        assertThatThrownBy(() -> LegacyOfficeText.read(ByteBuffer.wrap(repeated), 1_000_000))
                .hasMessage("the document's text is longer than 1000000 characters");
        byte[] deck = ppt("y".repeat(5_000));
        assertThatThrownBy(() -> LegacyOfficeText.read(ByteBuffer.wrap(deck), 4_000))
                .hasMessage("the document's text is longer than 4000 characters");
    }

    @Test
    @DisplayName("A PowerPoint file whose document streams pass the size POI's model is read up to is"
            + " refused unread; a workbook, read record by record, is not")
    void modelSizeLimit() throws Exception {
        byte[] deck = ppt("big deck");
        byte[] book = Fixtures.xls("big book");
        assertThatThrownBy(() -> LegacyOfficeText.read(ByteBuffer.wrap(deck), 1_000_000, 1024))
                .hasMessageMatching("the PowerPoint file's document streams hold [0-9]+ bytes, more than the 1024 a"
                        + " legacy binary file is read up to \\(its document is built whole in memory, at several"
                        + " times their size\\): save it as .pptx");
        assertThat(LegacyOfficeText.read(ByteBuffer.wrap(deck), 1_000_000, deck.length))
                .contains("big deck");
        assertThat(LegacyOfficeText.read(ByteBuffer.wrap(book), 1_000_000, 1024))
                .isEqualTo("big book");
        assertThat(LegacyOfficeText.MAX_MODEL_BYTES).isEqualTo(8 * 1024 * 1024);
    }

    /** A workbook of three sheets: strings, numbers, a boolean, a formula with a cached string; an empty one. */
    private static byte[] xls() {
        try (HSSFWorkbook book = new HSSFWorkbook();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            HSSFSheet first = book.createSheet("Sales");
            HSSFRow head = first.createRow(0);
            head.createCell(0).setCellValue("Product");
            head.createCell(1).setCellValue("Units");
            HSSFRow row = first.createRow(1);
            row.createCell(0).setCellValue("Widget");
            row.createCell(1).setCellValue(42);
            row.createCell(2).setCellValue(2.5);
            row.createCell(3).setCellValue(true);
            row.createCell(4).setCellFormula("CONCATENATE(\"light\",\"house\")");
            book.getCreationHelper().createFormulaEvaluator().evaluateAll();
            book.createSheet("Empty").createRow(0).createCell(0).setCellValue("");
            book.createSheet("Notes").createRow(0).createCell(0).setCellValue("Widget is a trademark");
            book.write(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A presentation of a slide per text, each a text box "Slide n: text". */
    static byte[] ppt(String... texts) {
        try (HSLFSlideShow show = new HSLFSlideShow();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (int i = 0; i < texts.length; i++) {
                HSLFSlide slide = show.createSlide();
                HSLFTextBox box = slide.createTextBox();
                box.setText("Slide " + (i + 1) + ": " + texts[i]);
            }
            show.write(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The compound file {@code bytes} with its stream {@code name} renamed {@code to}. */
    private static byte[] renamed(byte[] bytes, String name, String to) throws IOException {
        try (POIFSFileSystem fs = new POIFSFileSystem(new ByteArrayInputStream(bytes));
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            assertThat(fs.getRoot().getEntry(name).renameTo(to)).isTrue();
            fs.writeFilesystem(out);
            return out.toByteArray();
        }
    }

    /** An OLE2 compound file holding one small stream named {@code stream}. */
    private static byte[] compound(String stream) throws IOException {
        try (POIFSFileSystem fs = new POIFSFileSystem();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            fs.createDocument(new ByteArrayInputStream(new byte[] {1, 2, 3}), stream);
            fs.writeFilesystem(out);
            return out.toByteArray();
        }
    }

    /** A DOCX encrypted (agile, ECMA-376) with a password, as Word saves one. */
    static byte[] encryptedDocx() throws Exception {
        try (POIFSFileSystem fs = new POIFSFileSystem();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            Encryptor encryptor = new EncryptionInfo(EncryptionMode.agile).getEncryptor();
            encryptor.confirmPassword("secret");
            try (OutputStream encrypted = encryptor.getDataStream(fs)) {
                encrypted.write(OfficeTextTest.docx());
            }
            fs.writeFilesystem(out);
            return out.toByteArray();
        }
    }
}
