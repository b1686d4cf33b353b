package io.trisync.embedding;

import io.trisync.embedding.OfficeLimits.Unreadable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.TreeSet;
import org.apache.poi.EncryptedDocumentException;
import org.apache.poi.OldFileFormatException;
import org.apache.poi.hslf.usermodel.HSLFSlideShow;
import org.apache.poi.hssf.eventusermodel.HSSFEventFactory;
import org.apache.poi.hssf.eventusermodel.HSSFRequest;
import org.apache.poi.hssf.eventusermodel.HSSFUserException;
import org.apache.poi.poifs.filesystem.DirectoryNode;
import org.apache.poi.poifs.filesystem.DocumentEntry;
import org.apache.poi.poifs.filesystem.Entry;
import org.apache.poi.poifs.filesystem.POIFSFileSystem;
import org.apache.poi.sl.extractor.SlideShowExtractor;

/**
 * The text of an OLE2 compound file, which is what Office 97-2003 wrote (Word {@code .doc}, Excel
 * {@code .xls}, PowerPoint {@code .ppt}) and what an encrypted DOCX, XLSX or PPTX is: which one is
 * told by the streams it holds, not by its name. A PowerPoint 97-2003 presentation through Apache
 * POI's HSLF (slides in order, with their notes), an Excel 97-2003 workbook through HSSF's event
 * reader ({@link SheetRecords}: cells apart by tabs, a row a line, sheets apart by a blank line, as
 * {@link OfficeText} gives an XLSX). An encrypted file (an encrypted OOXML package, or an XLS or PPT
 * with a password to open) fails saying so. A Word document (a {@code WordDocument} stream: Word
 * 97-2003, 6.0 or 95), an Excel 5.0/95 workbook (a {@code Book} stream) and a PowerPoint 95 file are
 * not read: each fails naming its kind and the format to save it as ({@link #WORD_NOT_READ}, {@link
 * #OLD_EXCEL_NOT_READ}), since no such file can be written here to test a reader with (POI writes
 * none of them). Pure: no I/O besides the bytes given.
 *
 * <p>POI first copies the whole file into memory. HSLF then builds the whole presentation from its
 * document stream: for text-heavy files, measured at about 8 heap bytes a file byte in all, the copy
 * and the text included, beyond the three {@code MemoryBudget} accounts a file at. So a PowerPoint
 * file whose document stream ({@link #modelBytes}; not its pictures) passes {@value
 * #MAX_MODEL_BYTES} bytes is refused unread. HSSF's event reader holds the copy, the shared strings
 * and one record at a time, so a workbook is read at any size, its text counted as it grows (a
 * shared string a thousand cells repeat stops at the limit, not at the heap).
 */
final class LegacyOfficeText {

    private LegacyOfficeText() {}

    /**
     * The most bytes of document stream a PowerPoint file is read with: 8 MiB, some 70 MiB of heap in
     * POI's model.
     */
    static final int MAX_MODEL_BYTES = 8 * 1024 * 1024;

    /** The OLE2 compound file signature, with which every such file opens. */
    static final byte[] OLE2 = {(byte) 0xD0, (byte) 0xCF, 0x11, (byte) 0xE0, (byte) 0xA1, (byte) 0xB1, 0x1A, (byte) 0xE1
    };

    /** Why an encrypted document gives no text. */
    static final String ENCRYPTED = "the document is encrypted and cannot be read without its password";

    /** The stream of a Word document, 97-2003 and Word 6.0/95 alike (not read). */
    static final String WORD = "WordDocument";

    /** The stream of an Excel 97-2003 workbook (BIFF8). */
    static final String WORKBOOK = "Workbook";

    /** The stream of an Excel 5.0/95 or older workbook (BIFF5 and before; not read). */
    static final String OLD_WORKBOOK = "Book";

    /** The stream of a PowerPoint 97-2003 presentation. */
    static final String POWERPOINT = "PowerPoint Document";

    /** Why a Word document (Word 97-2003, or 6.0/95) gives no text. */
    static final String WORD_NOT_READ =
            "the file is a Word document (.doc, Word 97-2003 or older), which is not read:" + " save it as .docx";

    /** Why an Excel 5.0/95 (or older) workbook gives no text. */
    static final String OLD_EXCEL_NOT_READ =
            "the file is an Excel workbook of a version before 97 (Excel 5.0/95 or older), which is not read: save it"
                    + " as .xlsx";

    /** The streams of an encrypted Office Open XML package (ECMA-376 encryption). */
    private static final Set<String> ENCRYPTED_PACKAGE = Set.of("EncryptionInfo", "EncryptedPackage");

    /**
     * The text of the OLE2 compound file {@code bytes} (from position to limit, left as they are), at
     * most {@code maxText} characters. Fails with {@link Unreadable#document()} false when the file
     * holds no Office document (an Outlook message, a Visio drawing, an installer).
     */
    static String read(ByteBuffer bytes, long maxText) throws Unreadable {
        return read(bytes, maxText, MAX_MODEL_BYTES);
    }

    /** {@link #read(ByteBuffer, long)}, a PowerPoint file read up to {@code maxModelBytes}. */
    static String read(ByteBuffer bytes, long maxText, int maxModelBytes) throws Unreadable {
        DirectoryNode root = open(bytes).getRoot();
        if (ENCRYPTED_PACKAGE.stream().anyMatch(root::hasEntryCaseInsensitive)) {
            throw new Unreadable(ENCRYPTED);
        }
        // Names in any case, as POI finds them: some writers use "WORKBOOK" or "worddocument".
        String stream = root.hasEntryCaseInsensitive(WORD)
                ? WORD
                : root.hasEntryCaseInsensitive(WORKBOOK)
                        ? WORKBOOK
                        : root.hasEntryCaseInsensitive(POWERPOINT) ? POWERPOINT : null;
        if (stream == null && root.hasEntryCaseInsensitive(OLD_WORKBOOK)) {
            stream = OLD_WORKBOOK;
        }
        if (stream == null) {
            throw new Unreadable(
                    "the OLE2 compound file holds no Word, Excel or PowerPoint document (none of the streams " + WORD
                            + ", " + WORKBOOK + " or " + POWERPOINT + "; it holds " + names(root) + ")",
                    false);
        }
        if (stream.equals(WORD)) {
            throw new Unreadable(WORD_NOT_READ);
        }
        if (stream.equals(OLD_WORKBOOK)) {
            throw new Unreadable(OLD_EXCEL_NOT_READ);
        }
        long modelBytes = stream.equals(WORKBOOK) ? 0 : modelBytes(root);
        if (modelBytes > maxModelBytes) {
            throw new Unreadable("the PowerPoint file's document streams hold " + modelBytes + " bytes, more than the "
                    + maxModelBytes + " a legacy binary file is read up to (its document is built whole in memory, at"
                    + " several times their size): save it as .pptx");
        }
        String text;
        try {
            text = switch (stream) {
                case WORKBOOK -> workbook(root, maxText);
                default -> slides(root);
            };
        } catch (EncryptedDocumentException e) {
            throw new Unreadable(ENCRYPTED);
        } catch (OldFileFormatException e) {
            // HSLF reads no PowerPoint 95 (or older) file.
            throw new Unreadable(
                    "the file is a PowerPoint file of a version before 97, which is not read: save it as .pptx");
        } catch (HSSFUserException e) {
            throw new Unreadable(e.getMessage());
        } catch (IOException | RuntimeException | StackOverflowError e) {
            // StackOverflowError: records nested without end in a crafted file; the thread survives it.
            throw new Unreadable("the " + format(stream) + " file cannot be read: " + TextExtractor.detail(e));
        }
        if (text.length() > maxText) {
            throw new Unreadable("the document's text is longer than " + maxText + " characters");
        }
        return text.strip();
    }

    /** The compound file's directory, read from a copy of the bytes (POI holds the file whole). */
    private static POIFSFileSystem open(ByteBuffer bytes) throws Unreadable {
        try {
            return new POIFSFileSystem(new BufferInput(bytes.duplicate()));
        } catch (IOException | RuntimeException e) {
            throw new Unreadable(
                    "the file opens as an OLE2 compound file (a legacy Office file, or an encrypted one) but cannot be"
                            + " read as one, damaged or cut short: " + TextExtractor.detail(e));
        }
    }

    /**
     * The bytes of the stream HSLF builds its model from, a presentation's records ({@code PowerPoint
     * Document}). Pictures and embedded objects (other streams) are only held in POI's copy of the
     * file.
     */
    private static long modelBytes(DirectoryNode root) {
        long bytes = 0;
        for (Entry entry : root) {
            if (entry.getName().equalsIgnoreCase(POWERPOINT) && entry instanceof DocumentEntry document) {
                bytes += document.getSize();
            }
        }
        return bytes;
    }

    private static String workbook(DirectoryNode root, long maxText) throws IOException, HSSFUserException {
        SheetRecords sheets = new SheetRecords(new TextBudget(maxText));
        HSSFRequest request = new HSSFRequest();
        request.addListenerForAllRecords(sheets);
        new HSSFEventFactory().abortableProcessWorkbookEvents(request, root);
        return sheets.text();
    }

    private static String slides(DirectoryNode root) throws IOException {
        try (HSLFSlideShow show = new HSLFSlideShow(root)) {
            SlideShowExtractor<?, ?> extractor = new SlideShowExtractor<>(show);
            extractor.setSlidesByDefault(true);
            extractor.setNotesByDefault(true);
            return extractor.getText();
        }
    }

    private static String format(String stream) {
        return stream.equals(WORKBOOK) ? "Excel" : "PowerPoint";
    }

    /** The names of the top entries of {@code root}, sorted, the first ten. */
    private static String names(DirectoryNode root) {
        Set<String> names = new TreeSet<>();
        for (Entry entry : root) {
            names.add(entry.getName());
        }
        return names.isEmpty()
                ? "no entries"
                : String.join(", ", names.stream().limit(10).toList()) + (names.size() > 10 ? ", …" : "");
    }
}
