package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link PdfText} on PDFs written here object by object (PDFBox's own writer would not make the crafted
 * ones): a page's text and the text of the forms it draws are read; page contents that inflate past
 * the limit, the forms' included and however they nest, and text past its limit are refused with
 * their reason, before the heap holds them.
 */
class PdfTextTest {

    private static final String FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

    @Test
    @DisplayName("A page's text and the text of a form XObject it draws are read")
    void pageAndFormText() throws Exception {
        byte[] pdf = pdf(
                "BT /F1 12 Tf 72 700 Td (Otters hold hands) Tj ET /Fm1 Do",
                "BT /F1 12 Tf 72 600 Td (while they sleep) Tj ET",
                false);
        String text = PdfText.read(ByteBuffer.wrap(pdf), 1_000_000, 1_000_000);
        assertThat(text).contains("Otters hold hands").contains("while they sleep");
    }

    @Test
    @DisplayName("Page contents that inflate past the limit are refused, a form's counted with the page's")
    void inflationLimit() throws Exception {
        byte[] small = pdf("BT /F1 12 Tf 72 700 Td (a) Tj ET /Fm1 Do", lines(2_000), false);
        assertThat(PdfText.read(ByteBuffer.wrap(small), 1_000_000, 1_000_000)).contains("line 1999");
        assertThatThrownBy(() -> PdfText.read(ByteBuffer.wrap(small), 20_000, 1_000_000))
                .isInstanceOf(PdfText.Limit.class)
                .hasMessage("the PDF's page contents inflate past 20000 bytes");
    }

    @Test
    @DisplayName("A form that draws itself is counted once, not followed for ever")
    void formDrawingItself() throws Exception {
        byte[] pdf = pdf("BT /F1 12 Tf 72 700 Td (page) Tj ET /Fm1 Do", "BT /F1 12 Tf 72 600 Td (form) Tj ET", true);
        assertThat(PdfText.read(ByteBuffer.wrap(pdf), 1_000_000, 1_000_000)).contains("page");
    }

    @Test
    @DisplayName("Text past the limit is refused with its reason")
    void textLimit() throws Exception {
        byte[] pdf = pdf(lines(2_000), "", false);
        assertThat(PdfText.read(ByteBuffer.wrap(pdf), 10_000_000, 100_000)).contains("line 1999");
        assertThatThrownBy(() -> PdfText.read(ByteBuffer.wrap(pdf), 10_000_000, 5_000))
                .isInstanceOf(PdfText.Limit.class)
                .hasMessage("the PDF's text is longer than 5000 characters");
    }

    @Test
    @DisplayName("Through TextExtractor, a PDF whose contents inflate a thousand times is a failure with the reason,"
            + " read in well under a second instead of filling the heap")
    void bombIsAFailure() throws Exception {
        StringBuilder content = new StringBuilder("BT /F1 12 Tf 72 700 Td\n");
        String line = "(Hello world, the otters hold hands) Tj 0 -1 Td\n";
        // About 70 MB of text operators in a stream of a few hundred kilobytes.
        content.append(line.repeat(1_500_000)).append("ET");
        byte[] pdf = pdf(content.toString(), "", false);
        assertThat(pdf.length).isLessThan(1_000_000);
        TextExtractor.Extraction result = new TextExtractor().extract(ByteBuffer.wrap(pdf), "application/pdf", "b.pdf");
        assertThat(result.failure()).isEqualTo("a content stream of the PDF inflates past 67108864 bytes");
    }

    @Test
    @DisplayName("A form the page draws through resources inherited from its page tree is counted too")
    void inheritedResources() throws Exception {
        byte[] pdf = pdf("q /Fm1 Do Q", lines(2_000), false, true);
        assertThat(PdfText.read(ByteBuffer.wrap(pdf), 1_000_000, 1_000_000)).contains("line 1999");
        assertThatThrownBy(() -> PdfText.read(ByteBuffer.wrap(pdf), 20_000, 1_000_000))
                .isInstanceOf(PdfText.Limit.class)
                .hasMessage("the PDF's page contents inflate past 20000 bytes");
    }

    @Test
    @DisplayName("A form drawn many times counts at every draw: PDFBox decodes it again each time")
    void repeatedDraws() throws Exception {
        byte[] pdf = pdf("q /Fm1 Do Q\n".repeat(50), "BT /F1 12 Tf 72 600 Td (form) Tj ET", false);
        // The form's content is 36 bytes: one draw fits in 1,000, fifty do not.
        assertThatThrownBy(() -> PdfText.read(ByteBuffer.wrap(pdf), 1_000, 1_000_000))
                .isInstanceOf(PdfText.Limit.class)
                .hasMessage("the PDF's page contents inflate past 1000 bytes");
        assertThat(PdfText.read(ByteBuffer.wrap(pdf), 10_000, 1_000_000)).contains("form");
    }

    private static String lines(int n) {
        StringBuilder s = new StringBuilder("BT /F1 12 Tf 72 700 Td\n");
        for (int i = 0; i < n; i++) {
            s.append("(line ").append(i).append(") Tj 0 -14 Td\n");
        }
        return s.append("ET").toString();
    }

    /**
     * A one-page PDF: its content {@code page} (Flate-compressed) and a form XObject {@code /Fm1} of
     * content {@code form}, whose resources name itself when {@code selfDrawing}.
     */
    private static byte[] pdf(String page, String form, boolean selfDrawing) throws Exception {
        return pdf(page, form, selfDrawing, false);
    }

    /** {@link #pdf(String, String, boolean)} with the resources on the page tree's root when {@code inherited}. */
    private static byte[] pdf(String page, String form, boolean selfDrawing, boolean inherited) throws Exception {
        String resources = " /Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >>";
        List<byte[]> objects = new ArrayList<>();
        objects.add(ascii("<< /Type /Catalog /Pages 2 0 R >>"));
        objects.add(ascii("<< /Type /Pages /Kids [3 0 R] /Count 1" + (inherited ? resources : "") + " >>"));
        objects.add(ascii("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
                + (inherited ? "" : resources) + " >>"));
        objects.add(stream("", page));
        objects.add(ascii(FONT));
        objects.add(stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >>"
                        + (selfDrawing ? " /XObject << /Fm1 6 0 R >>" : "") + " >> ",
                form));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ascii("%PDF-1.4\n"));
        List<Integer> offsets = new ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            offsets.add(out.size());
            out.write(ascii((i + 1) + " 0 obj\n"));
            out.write(objects.get(i));
            out.write(ascii("\nendobj\n"));
        }
        int xref = out.size();
        StringBuilder table = new StringBuilder("xref\n0 " + (objects.size() + 1) + "\n0000000000 65535 f \n");
        offsets.forEach(o -> table.append(String.format("%010d 00000 n \n", o)));
        table.append("trailer\n<< /Size ")
                .append(objects.size() + 1)
                .append(" /Root 1 0 R >>\nstartxref\n")
                .append(xref)
                .append("\n%%EOF\n");
        out.write(ascii(table.toString()));
        return out.toByteArray();
    }

    private static byte[] stream(String dictionary, String content) throws Exception {
        Deflater deflater = new Deflater(9);
        deflater.setInput(content.getBytes(StandardCharsets.ISO_8859_1));
        deflater.finish();
        ByteArrayOutputStream packed = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        while (!deflater.finished()) {
            packed.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ascii("<< " + dictionary + "/Length " + packed.size() + " /Filter /FlateDecode >>\nstream\n"));
        packed.writeTo(out);
        out.write(ascii("\nendstream"));
        return out.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
