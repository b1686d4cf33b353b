package io.trisync.store;

import static io.qdrant.client.ValueFactory.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.qdrant.client.PointIdFactory;
import io.qdrant.client.grpc.JsonWithInt.Value;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class QdrantPayloadsTest {

    private static Map<String, Value> written() {
        return new HashMap<>(
                QdrantPayloads.of(ChunkPoint.of("acme", "f1", 0, 3, "a".repeat(64), "m", new float[] {1f}, "text")));
    }

    @Test
    @DisplayName("A point as this service writes it is its own; one with a numeric id, no tenant or file, or a"
            + " chunk that is no whole number of zero or more is not")
    void oursIsWhatThisServiceWrites() {
        var uuid = PointIdFactory.id(StoreKeys.chunkPointId("f1", 0));
        assertThat(QdrantPayloads.ours(uuid, written())).isTrue();
        assertThat(QdrantPayloads.ours(PointIdFactory.id(UUID.randomUUID()), written()))
                .as("the payload trisync writes, under an id it does not derive")
                .isFalse();
        assertThat(QdrantPayloads.ours(PointIdFactory.id(7L), written())).isFalse();
        Map<String, Value> noFile = written();
        noFile.remove(ChunkPoint.FILE_ID);
        assertThat(QdrantPayloads.ours(uuid, noFile)).isFalse();
        Map<String, Value> noTenant = written();
        noTenant.remove(ChunkPoint.TENANT_ID);
        assertThat(QdrantPayloads.ours(uuid, noTenant)).isFalse();
        Map<String, Value> textChunk = written();
        textChunk.put(ChunkPoint.CHUNK, value("x"));
        assertThat(QdrantPayloads.ours(uuid, textChunk)).isFalse();
        Map<String, Value> negative = written();
        negative.put(ChunkPoint.CHUNK, value(-1));
        assertThat(QdrantPayloads.ours(uuid, negative)).isFalse();
        Map<String, Value> numericFile = written();
        numericFile.put(ChunkPoint.FILE_ID, value(5));
        assertThat(QdrantPayloads.ours(uuid, numericFile)).isFalse();
    }

    @Test
    @DisplayName("A scroll offset survives as a cursor whether Qdrant names it by UUID or by number")
    void cursorRoundTrips() {
        var uuid = PointIdFactory.id(UUID.randomUUID());
        assertThat(QdrantPayloads.offset(QdrantPayloads.cursor(uuid))).isEqualTo(uuid);
        var number = PointIdFactory.id(424242L);
        assertThat(QdrantPayloads.cursor(number)).isEqualTo("#424242");
        assertThat(QdrantPayloads.offset(QdrantPayloads.cursor(number))).isEqualTo(number);
    }
}
