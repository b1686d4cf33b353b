package io.trisync.embedding;

import java.io.InputStream;
import java.nio.ByteBuffer;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The text of an XML document (DocBook, a feed, a configuration file): its character data, a line for
 * each element that held some, without the markup that indexing the file as raw text put in every
 * chunk. The parser finds the encoding from the document's declaration or byte order mark, as XML
 * says; it reads no DTD and resolves no external entity ({@link OfficeXml#XML}). Pure.
 */
final class XmlText {

    private XmlText() {}

    /**
     * The character data of the XML document {@code bytes} (from position to limit, left as they
     * are), in the charset its media type declares when it declares one (RFC 7303: it wins over the
     * document's own declaration), else the one the document declares.
     */
    static String read(ByteBuffer bytes, String declared) throws XMLStreamException {
        InputStream in = new BufferInput(bytes.duplicate());
        XMLStreamReader xml = declared == null
                ? OfficeXml.XML.createXMLStreamReader(in)
                : OfficeXml.XML.createXMLStreamReader(in, declared);
        StringBuilder text = new StringBuilder();
        boolean held = false;
        try {
            while (xml.hasNext()) {
                switch (xml.next()) {
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (!xml.isWhiteSpace()) {
                            text.append(xml.getText());
                            held = true;
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        if (held) {
                            text.append('\n');
                            held = false;
                        }
                    }
                    default -> {}
                }
            }
        } finally {
            xml.close();
        }
        return text.toString().strip();
    }
}
