package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.ObjectDataType;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BsonDocumentTypeTest {

    /** A document with every kind of value trisync's records hold, as the wire decoder makes them. */
    private static Document record() {
        Document embedding = new Document("model", "kill-test@384").append("chunks", 3);
        List<Object> steps = new ArrayList<>(List.of("BEGUN", "BLOB"));
        steps.add(new Document("step", "META").append("at", Instant.ofEpochMilli(1_764_700_000_123L)));
        return new Document("_id", "01a2325d-a24e-790c-ac1a-dfbd20571732")
                .append("tenantId", "tenant-ä")
                .append("partition", 12)
                .append("size", 5_000_000_000L)
                .append("score", 0.25)
                .append("active", true)
                .append("error", null)
                .append("createdAt", Instant.ofEpochMilli(1_764_700_000_000L))
                .append("embedding", embedding)
                .append("steps", steps)
                .append("oid", new ObjectId())
                .append("bytes", new BinData(new byte[] {1, 2, 3}));
    }

    private static ByteBuffer written(Consumer<WriteBuffer> write) {
        WriteBuffer buffer = new WriteBuffer();
        write.accept(buffer);
        return buffer.getBuffer().flip();
    }

    @Test
    @DisplayName("A document written as BSON reads back equal, value types and field order kept")
    void roundTrip() {
        Document original = record();
        Document read =
                BsonDocumentType.INSTANCE.read(written(buffer -> BsonDocumentType.INSTANCE.write(buffer, original)));
        assertThat(read).isEqualTo(original);
        assertThat(new ArrayList<>(read.keySet())).isEqualTo(new ArrayList<>(original.keySet()));
        assertThat(read.get("size")).isInstanceOf(Long.class);
        assertThat(read.get("partition")).isInstanceOf(Integer.class);
    }

    @Test
    @DisplayName("Values written by the stock backend (Java serialization) are still read, beside BSON ones")
    void readsValuesOfOlderFiles() {
        Document old = record();
        Document fresh = record().append("_id", "second");
        ByteBuffer both = written(buffer -> {
            new ObjectDataType().write(buffer, old);
            BsonDocumentType.INSTANCE.write(buffer, fresh);
        });
        assertThat(BsonDocumentType.INSTANCE.read(both)).isEqualTo(old);
        assertThat(BsonDocumentType.INSTANCE.read(both)).isEqualTo(fresh);
        assertThat(both.hasRemaining()).isFalse();
    }

    @Test
    @DisplayName("BSON is several times smaller than the Java serialization it replaces")
    void smallerThanJavaSerialization() {
        int bson = written(buffer -> BsonDocumentType.INSTANCE.write(buffer, record()))
                .remaining();
        int java =
                written(buffer -> new ObjectDataType().write(buffer, record())).remaining();
        assertThat(bson * 2)
                .as("BSON %d bytes, Java serialization %d", bson, java)
                .isLessThan(java);
    }
}
