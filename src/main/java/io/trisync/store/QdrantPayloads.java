package io.trisync.store;

import static io.qdrant.client.ValueFactory.value;

import io.qdrant.client.PointIdFactory;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A chunk point as a Qdrant payload and back: the fields {@link ChunkPoint} names, one place. */
final class QdrantPayloads {

    private static final Logger LOG = LoggerFactory.getLogger(QdrantPayloads.class);

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

    /**
     * Whether Qdrant's point {@code id} with {@code payload} is one this service wrote: a tenant and a
     * file named by strings, a chunk number of zero or more, and the id derived from them
     * ({@link StoreKeys#chunkPointId}). Another (written by hand or by
     * another program into this collection) belongs to no file: listings and searches leave it out
     * rather than fail every scan and search of its tenant on it.
     */
    static boolean ours(PointId id, Map<String, Value> payload) {
        Value chunk = payload.get(ChunkPoint.CHUNK);
        String fileId = text(payload, ChunkPoint.FILE_ID);
        return id.hasUuid()
                && text(payload, ChunkPoint.TENANT_ID) != null
                && fileId != null
                && chunk != null
                && chunk.hasIntegerValue()
                && chunk.getIntegerValue() >= 0
                && chunk.getIntegerValue() <= Integer.MAX_VALUE
                // The id this service derives from the file and chunk: the same payload names
                // (tenant_id, file_id, chunk) written by another program do not make a point trisync's.
                && id.getUuid()
                        .equalsIgnoreCase(StoreKeys.chunkPointId(fileId, (int) chunk.getIntegerValue())
                                .toString());
    }

    /**
     * The points of {@code points} this service wrote ({@link #ours}), read; a WARN names each other
     * one, and {@code foreign} counts it.
     */
    static List<ChunkPoint> ours(List<RetrievedPoint> points, boolean withVector, String collection, Runnable foreign) {
        List<ChunkPoint> out = new ArrayList<>(points.size());
        for (RetrievedPoint p : points) {
            if (ours(p.getId(), p.getPayloadMap())) {
                out.add(point(p, withVector));
            } else {
                foreign.run();
                LOG.warn(
                        "Qdrant collection {} holds point {} that trisync did not write (its id, tenant_id, file_id or"
                                + " chunk is not one trisync writes): left out of scans and searches, and left alone;"
                                + " remove it by hand if it does not belong there",
                        collection,
                        p.getId().hasUuid()
                                ? p.getId().getUuid()
                                : String.valueOf(p.getId().getNum()));
            }
        }
        return out;
    }

    /** A scroll's page offset as a cursor string: a UUID as itself, a number as {@code #n}. */
    static String cursor(PointId offset) {
        return offset.hasUuid() ? offset.getUuid() : "#" + offset.getNum();
    }

    /** The point id a {@link #cursor} names. */
    static PointId offset(String cursor) {
        return cursor.startsWith("#")
                ? PointIdFactory.id(Long.parseLong(cursor.substring(1)))
                : PointIdFactory.id(UUID.fromString(cursor));
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
