package io.trisync.embedding;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSStream;
import org.apache.pdfbox.filter.FilterFactory;
import org.apache.pdfbox.io.RandomAccessReadBuffer;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.text.PDFTextStripper;

/**
 * The text of a PDF through PDFBox, within limits a crafted file cannot pass. PDFBox decodes a
 * content stream whole into memory before it parses it, and its text stripper keeps all the text it
 * finds: an 820 KB PDF whose one page's content stream inflates to 288 MB of text operators took a
 * 512 MiB heap to {@code OutOfMemoryError}. So the streams the stripper reads (each page's contents
 * and the form XObjects its resources reach, nested ones too) are first inflated into nothing,
 * counted, and the file is refused once they pass {@code maxInflated} bytes in all; then the text is
 * written through a writer that refuses it past {@code maxText} characters. Image streams are not
 * decoded (the stripper does not read them either).
 */
final class PdfText {

    private PdfText() {}

    /** A limit the document passed: its message is the reason. */
    static final class Limit extends IOException {
        Limit(String message) {
            super(message);
        }
    }

    /**
     * The text of the PDF {@code bytes} (position to limit, left as they are); fails with {@link Limit}
     * past either bound, with PDFBox's own exception when it cannot read the file.
     */
    static String read(ByteBuffer bytes, long maxInflated, long maxText) throws IOException {
        try (PDDocument document = Loader.loadPDF(new RandomAccessReadBuffer(bytes))) {
            Inflation inflation = new Inflation(maxInflated);
            for (PDPage page : document.getPages()) {
                inflation.page(page.getCOSObject());
            }
            StringBuilder text = new StringBuilder();
            new PDFTextStripper().writeText(document, new Bounded(text, maxText));
            return text.toString();
        }
    }

    /** The content streams of a document counted as they would be decoded, against the limit. */
    private static final class Inflation {
        private final long max;
        private long inflated;
        private final Set<COSStream> seen = Collections.newSetFromMap(new IdentityHashMap<>());

        Inflation(long max) {
            this.max = max;
        }

        void page(COSDictionary page) throws IOException {
            COSBase contents = page.getDictionaryObject(COSName.CONTENTS);
            if (contents instanceof COSStream stream) {
                count(stream);
            } else if (contents instanceof COSArray array) {
                for (int i = 0; i < array.size(); i++) {
                    if (array.getObject(i) instanceof COSStream stream) {
                        count(stream);
                    }
                }
            }
            forms(page.getCOSDictionary(COSName.RESOURCES));
        }

        /** The form XObjects {@code resources} reach, and theirs, each once. */
        private void forms(COSDictionary resources) throws IOException {
            Deque<COSDictionary> pending = new ArrayDeque<>();
            if (resources != null) {
                pending.push(resources);
            }
            while (!pending.isEmpty()) {
                COSDictionary xobjects = pending.pop().getCOSDictionary(COSName.XOBJECT);
                if (xobjects == null) {
                    continue;
                }
                for (COSName name : xobjects.keySet()) {
                    if (xobjects.getDictionaryObject(name) instanceof COSStream form
                            && COSName.FORM.equals(form.getCOSName(COSName.SUBTYPE))
                            && seen.add(form)) {
                        count(form);
                        COSDictionary own = form.getCOSDictionary(COSName.RESOURCES);
                        if (own != null) {
                            pending.push(own);
                        }
                    }
                }
            }
        }

        /** Decodes {@code stream} into nothing, its bytes counted; the filters between hold at most the limit. */
        private void count(COSStream stream) throws IOException {
            List<COSName> filters = filters(stream.getFilters());
            if (filters.isEmpty()) {
                add(stream.getLength());
                return;
            }
            try (InputStream raw = stream.createRawInputStream()) {
                InputStream in = raw;
                for (int i = 0; i < filters.size(); i++) {
                    if (i == filters.size() - 1) {
                        FilterFactory.INSTANCE.getFilter(filters.get(i)).decode(in, new Counted(), stream, i);
                    } else {
                        ByteArrayOutputStream between = new ByteArrayOutputStream();
                        FilterFactory.INSTANCE.getFilter(filters.get(i)).decode(in, new Counted(between), stream, i);
                        in = new ByteArrayInputStream(between.toByteArray());
                    }
                }
            }
        }

        private void add(long n) throws Limit {
            inflated += n;
            if (inflated > max) {
                throw new Limit("the PDF's page contents inflate past " + max + " bytes");
            }
        }

        private static List<COSName> filters(COSBase filters) {
            if (filters instanceof COSName name) {
                return List.of(name);
            }
            if (filters instanceof COSArray array) {
                List<COSName> names = new ArrayList<>();
                for (int i = 0; i < array.size(); i++) {
                    if (array.getObject(i) instanceof COSName name) {
                        names.add(name);
                    }
                }
                return names;
            }
            return List.of();
        }

        /** Where a decoded stream goes: counted against the limit, and kept only between two filters. */
        private final class Counted extends OutputStream {
            private final OutputStream kept;

            Counted() {
                this(OutputStream.nullOutputStream());
            }

            Counted(OutputStream kept) {
                this.kept = kept;
            }

            @Override
            public void write(int b) throws IOException {
                add(1);
                kept.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                add(len);
                kept.write(b, off, len);
            }
        }
    }

    /** The stripper's output: held, and refused past its limit. */
    private static final class Bounded extends Writer {
        private final StringBuilder text;
        private final long max;

        Bounded(StringBuilder text, long max) {
            this.text = text;
            this.max = max;
        }

        @Override
        public void write(char[] chars, int off, int len) throws IOException {
            if (text.length() + (long) len > max) {
                throw new Limit("the PDF's text is longer than " + max + " characters");
            }
            text.append(chars, off, len);
        }

        @Override
        public void write(String s, int off, int len) throws IOException {
            if (text.length() + (long) len > max) {
                throw new Limit("the PDF's text is longer than " + max + " characters");
            }
            text.append(s, off, off + len);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
