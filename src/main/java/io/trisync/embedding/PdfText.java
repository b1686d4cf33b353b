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
import java.util.Map;
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
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.graphics.form.PDFormXObject;
import org.apache.pdfbox.pdmodel.graphics.form.PDTransparencyGroup;
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

    /**
     * The most one stream may inflate to (64 MiB), whatever the file's size: PDFBox decodes a stream
     * whole into memory, outside what the memory budget accounts a file at.
     */
    static final long MAX_STREAM = 64L * 1024 * 1024;

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
                inflation.page(page);
            }
            StringBuilder text = new StringBuilder();
            try {
                new Stripper(inflation).writeText(document, new Bounded(text, maxText));
            } catch (Drawn past) {
                throw past.limit;
            }
            return text.toString();
        }
    }

    /** The content streams of a document counted as they would be decoded, against the limit. */
    private static final class Inflation {
        private final long max;
        private long inflated;
        /** The decoded size of each form and font stream counted, by identity. */
        private final Map<COSStream, Long> sizes = new IdentityHashMap<>();
        /** The forms drawn once already while stripping (their first draw was counted by the first pass). */
        private final Set<COSStream> firstDraw = Collections.newSetFromMap(new IdentityHashMap<>());

        Inflation(long max) {
            this.max = max;
        }

        /** A page's content streams, and the forms and fonts its resources (its own or inherited) reach. */
        void page(PDPage pdPage) throws IOException {
            COSDictionary page = pdPage.getCOSObject();
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
            // As the stripper takes them: the page's own, else those its page tree's parents hold.
            PDResources resources = pdPage.getResources();
            forms(resources == null ? null : resources.getCOSObject());
        }

        /** The form XObjects {@code resources} reach, and theirs, each once. */
        private void forms(COSDictionary resources) throws IOException {
            Deque<COSDictionary> pending = new ArrayDeque<>();
            if (resources != null) {
                pending.push(resources);
            }
            while (!pending.isEmpty()) {
                COSDictionary current = pending.pop();
                fonts(current.getCOSDictionary(COSName.FONT));
                COSDictionary xobjects = current.getCOSDictionary(COSName.XOBJECT);
                if (xobjects == null) {
                    continue;
                }
                for (COSName name : xobjects.keySet()) {
                    if (xobjects.getDictionaryObject(name) instanceof COSStream form
                            && COSName.FORM.equals(form.getCOSName(COSName.SUBTYPE))
                            && !sizes.containsKey(form)) {
                        sizes.put(form, count(form));
                        COSDictionary own = form.getCOSDictionary(COSName.RESOURCES);
                        if (own != null) {
                            pending.push(own);
                        }
                    }
                }
            }
        }

        /**
         * The streams a font decodes as it is loaded (its embedded program, its ToUnicode map), its
         * descendant's for a composite font, each once: PDFBox keeps a loaded font for the document.
         */
        private void fonts(COSDictionary fonts) throws IOException {
            if (fonts == null) {
                return;
            }
            Deque<COSDictionary> pending = new ArrayDeque<>();
            for (COSName name : fonts.keySet()) {
                if (fonts.getDictionaryObject(name) instanceof COSDictionary font) {
                    pending.push(font);
                }
            }
            while (!pending.isEmpty()) {
                COSDictionary font = pending.pop();
                once(font.getDictionaryObject(COSName.TO_UNICODE));
                if (font.getDictionaryObject(COSName.FONT_DESC) instanceof COSDictionary descriptor) {
                    once(descriptor.getDictionaryObject(COSName.FONT_FILE));
                    once(descriptor.getDictionaryObject(COSName.FONT_FILE2));
                    once(descriptor.getDictionaryObject(COSName.FONT_FILE3));
                }
                if (font.getDictionaryObject(COSName.DESCENDANT_FONTS) instanceof COSArray descendants) {
                    for (int i = 0; i < descendants.size(); i++) {
                        if (descendants.getObject(i) instanceof COSDictionary descendant) {
                            pending.push(descendant);
                        }
                    }
                }
            }
        }

        private void once(COSBase stream) throws IOException {
            if (stream instanceof COSStream s && !sizes.containsKey(s)) {
                sizes.put(s, count(s));
            }
        }

        /**
         * A form drawn ({@code Do}) while the text is stripped: PDFBox decodes it again at every draw,
         * so every draw after its first counts its size again (a form drawn 100,000 times was a CPU
         * bomb with no text to stop at).
         */
        void drawn(COSStream form) throws IOException {
            Long size = sizes.get(form);
            if (size == null) {
                // Reached some way the first pass did not follow: counted now, on its first draw.
                sizes.put(form, count(form));
            } else if (!firstDraw.add(form)) {
                add(size);
            }
        }

        /** Decodes {@code stream} into nothing, its bytes counted; the filters between hold at most the limit. */
        private long count(COSStream stream) throws IOException {
            long before = inflated;
            countInto(stream);
            return inflated - before;
        }

        private void countInto(COSStream stream) throws IOException {
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

            /** This stream's decoded bytes so far (PDFBox holds one stream's whole at a time). */
            private long own;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                own += len;
                if (own > MAX_STREAM) {
                    throw new Limit("a content stream of the PDF inflates past " + MAX_STREAM + " bytes");
                }
                add(len);
                kept.write(b, off, len);
            }
        }
    }

    /** PDFBox's text stripper, each form it draws counted against the document's inflation. */
    private static final class Stripper extends PDFTextStripper {
        private final Inflation inflation;

        Stripper(Inflation inflation) {
            this.inflation = inflation;
        }

        @Override
        public void showForm(PDFormXObject form) throws IOException {
            drawn(form.getCOSObject());
            super.showForm(form);
        }

        @Override
        public void showTransparencyGroup(PDTransparencyGroup form) throws IOException {
            drawn(form.getCOSObject());
            super.showTransparencyGroup(form);
        }

        /** Counts a draw; past the limit, ends the stripping (PDFBox logs and skips an IOException of a {@code Do}). */
        private void drawn(COSStream form) throws IOException {
            try {
                inflation.drawn(form);
            } catch (Limit limit) {
                throw new Drawn(limit);
            }
        }
    }

    /** A limit passed at a draw, carried out of the stripper unchecked (PDFBox swallows a {@code Do}'s IOException). */
    private static final class Drawn extends RuntimeException {
        final Limit limit;

        Drawn(Limit limit) {
            super(limit.getMessage(), null, false, false);
            this.limit = limit;
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
            room(len);
            text.append(chars, off, len);
        }

        @Override
        public void write(String s, int off, int len) throws IOException {
            room(len);
            text.append(s, off, off + len);
        }

        private void room(int len) throws Limit {
            if (text.length() + (long) len > max) {
                throw new Limit("the PDF's text is longer than " + max + " characters");
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
