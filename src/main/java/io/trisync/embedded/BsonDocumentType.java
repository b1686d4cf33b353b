package io.trisync.embedded;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

/**
 * How the embedded MongoDB's documents are written into MVStore pages: as BSON, the encoding they
 * arrive in. The stock backend leaves them to MVStore's {@link ObjectDataType}, which writes a
 * {@link Document} with Java serialization, class descriptors and all, every time a page holding it
 * is written (at every commit of the file, for every page a write touched since the last).
 *
 * <p>A BSON value starts with a tag byte no {@link ObjectDataType} value starts with, so files written
 * before hold values this type still reads (they are rewritten as BSON when their page is next
 * written). A document BSON cannot encode is written the old way.
 */
final class BsonDocumentType extends BasicDataType<Document> {

    static final BsonDocumentType INSTANCE = new BsonDocumentType();

    /** Above every tag {@link ObjectDataType} writes (all below 128). */
    private static final byte BSON = (byte) 0xB5;

    private final ObjectDataType legacy = new ObjectDataType();
    /** The mean encoded size so far: MVStore's estimate of a value's memory, updated as values are written. */
    private volatile int averageSize = 512;

    private BsonDocumentType() {}

    @Override
    public int getMemory(Document document) {
        return averageSize;
    }

    @Override
    public void write(WriteBuffer buffer, Document document) {
        ByteBuf bson = Unpooled.buffer(averageSize);
        try {
            BsonEncoder.encodeDocument(document, bson);
        } catch (RuntimeException notBson) {
            legacy.write(buffer, document);
            return;
        }
        int length = bson.readableBytes();
        averageSize = (averageSize * 15 + length) / 16;
        buffer.put(BSON).putVarInt(length).put(bson.array(), bson.arrayOffset() + bson.readerIndex(), length);
    }

    @Override
    public Document read(ByteBuffer buffer) {
        if (buffer.get(buffer.position()) != BSON) {
            return (Document) legacy.read(buffer);
        }
        buffer.get();
        byte[] bytes = new byte[DataUtils.readVarInt(buffer)];
        buffer.get(bytes);
        return BsonDecoder.decodeBson(Unpooled.wrappedBuffer(bytes));
    }

    @Override
    public Document[] createStorage(int size) {
        return new Document[size];
    }
}
