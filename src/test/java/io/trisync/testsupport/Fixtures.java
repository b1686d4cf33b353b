package io.trisync.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.poi.hssf.usermodel.HSSFSheet;
import org.apache.poi.hssf.usermodel.HSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFDocument;

/** Test files made on the spot: prose of a given length, and a real PDF holding given lines. */
public final class Fixtures {

    /**
     * A file id of the form trisync writes (a UUID) standing for {@code name}, the same for the same
     * name: for objects and points planted as orphans. An object whose key names no such id is
     * another program's, reported apart and never repaired.
     */
    public static String fileId(String name) {
        return java.util
                .UUID
                .nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    private Fixtures() {}

    /** {@code words} words of varied prose. */
    public static String prose(int words) {
        String[] vocabulary = ("the archive keeps every contract signed by the company together with its "
                        + "amendments invoices and the letters exchanged with suppliers during negotiations")
                .split(" ");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            sb.append(vocabulary[(i * 7 + i / 13) % vocabulary.length]).append(i % 17 == 16 ? ".\n" : " ");
        }
        return sb.toString().trim();
    }

    /** A one-page PDF with these lines of text (Helvetica). */
    public static byte[] pdf(String... lines) {
        try (PDDocument doc = new PDDocument();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PDPage page = new PDPage();
            doc.addPage(page);
            try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
                content.beginText();
                content.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 11);
                content.setLeading(14);
                content.newLineAtOffset(50, 720);
                for (String line : lines) {
                    content.showText(line);
                    content.newLine();
                }
                content.endText();
            }
            doc.save(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Word document (DOCX, written by Apache POI) with these paragraphs. */
    public static byte[] docx(String... paragraphs) {
        try (XWPFDocument doc = new XWPFDocument();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            for (String paragraph : paragraphs) {
                doc.createParagraph().createRun().setText(paragraph);
            }
            doc.write(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An Excel 97-2003 workbook (XLS, written by Apache POI's HSSF): one sheet, a row a cell of these texts. */
    public static byte[] xls(String... rows) {
        try (HSSFWorkbook book = new HSSFWorkbook();
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            HSSFSheet sheet = book.createSheet("Sheet1");
            for (int i = 0; i < rows.length; i++) {
                sheet.createRow(i).createCell(0).setCellValue(rows[i]);
            }
            book.write(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
