package io.trisync.store;

import static io.qdrant.client.ValueFactory.value;

import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A chunk point as a Qdrant payload and back: the fields {@link ChunkPoint} names, one place. */
final class QdrantPayloads {

    private QdrantPayloads() {}

    /** The payload stored with {@code p}. */
    static Map<String, Value> of(ChunkPoint p) {
        Map<String, Value> payload = new HashMap<>(Map.of(
                ChunkPoint.TENANT_ID, value(p.tenantId()),
                ChunkPoint.FILE_ID, value(p.fileId()),
                ChunkPoint.CHUNK, value(p.chunk()),
                ChunkPoint.PARTITION, value(p.partition()),
                ChunkPoint.CONTENT_SHA256, value(p.contentSha256()),
                ChunkPoint.MODEL, value(p.model())));
        if (p.text() != null) {
            payload.put(ChunkPoint.TEXT, value(p.text()));
        }
        return payload;
    }

    /** The chunk point Qdrant returned, with its vector when {@code withVector} and Qdrant sent it. */
    static ChunkPoint point(RetrievedPoint p, boolean withVector) {
        float[] vector = null;
        if (withVector && p.hasVectors()) {
            List<Float> data = p.getVectors().getVector().getDense().getDataList();
            vector = new float[data.size()];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = data.get(i);
            }
        }
        return point(UUID.fromString(p.getId().getUuid()), p.getPayloadMap(), vector);
    }

    /** The chunk point of id {@code id} read from its payload ({@code vector} may be null). */
    static ChunkPoint point(UUID id, Map<String, Value> payload, float[] vector) {
        return new ChunkPoint(
                id,
                text(payload, ChunkPoint.TENANT_ID),
                text(payload, ChunkPoint.FILE_ID),
                (int) number(payload, ChunkPoint.CHUNK),
                (int) number(payload, ChunkPoint.PARTITION),
                text(payload, ChunkPoint.CONTENT_SHA256),
                text(payload, ChunkPoint.MODEL),
                vector,
                text(payload, ChunkPoint.TEXT));
    }

    /** The string at {@code key}, or null when there is none. */
    static String text(Map<String, Value> payload, String key) {
        Value v = payload.get(key);
        return v == null || !v.hasStringValue() ? null : v.getStringValue();
    }

    /** The number at {@code key}, or -1 when there is none. */
    private static long number(Map<String, Value> payload, String key) {
        Value v = payload.get(key);
        return v == null ? -1 : v.hasIntegerValue() ? v.getIntegerValue() : (long) v.getDoubleValue();
    }
}
