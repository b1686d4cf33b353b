package io.trisync.embedded.qdrant;

import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsIdsList;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * The write-ahead log of one collection on disk: {@code collection.pb} holds its creation request,
 * {@code points.log} a sequence of records (a type byte, then a length-delimited protobuf message:
 * {@link UpsertPoints} or {@link PointsIdsList} of deletions). Opening replays the log and then
 * rewrites it compactly; a torn last record (a crash mid-write) is dropped.
 */
final class CollectionLog implements AutoCloseable {

    private static final int UPSERT = 1;
    private static final int DELETE = 2;

    private final Path dir;
    private OutputStream out;

    private CollectionLog(Path dir) {
        this.dir = dir;
    }

    static CollectionLog create(Path dir, CreateCollection request) {
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("collection.pb"), request.toByteArray());
            CollectionLog log = new CollectionLog(dir);
            log.out = log.openForAppend(false);
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CreateCollection readDefinition(Path dir) throws IOException {
        return CreateCollection.parseFrom(Files.readAllBytes(dir.resolve("collection.pb")));
    }

    /** Replays the log into the two sinks; the caller then {@link #compact}s it to what it holds. */
    static CollectionLog open(Path dir, Consumer<List<StoredPoint>> upserts, Consumer<List<PointKey>> deletes)
            throws IOException {
        Path file = dir.resolve("points.log");
        if (Files.exists(file)) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
                replay(in, upserts, deletes);
            }
        }
        return new CollectionLog(dir);
    }

    private static void replay(InputStream in, Consumer<List<StoredPoint>> upserts, Consumer<List<PointKey>> deletes)
            throws IOException {
        while (true) {
            int type = in.read();
            if (type < 0) {
                return;
            }
            try {
                if (type == UPSERT) {
                    UpsertPoints record = UpsertPoints.parseDelimitedFrom(in);
                    if (record == null) {
                        return;
                    }
                    upserts.accept(record.getPointsList().stream()
                            .map(CollectionLog::fromProto)
                            .toList());
                } else if (type == DELETE) {
                    PointsIdsList record = PointsIdsList.parseDelimitedFrom(in);
                    if (record == null) {
                        return;
                    }
                    deletes.accept(
                            record.getIdsList().stream().map(PointKey::of).toList());
                } else {
                    return;
                }
            } catch (EOFException | com.google.protobuf.InvalidProtocolBufferException torn) {
                return;
            }
        }
    }

    /** Rewrites the log as the given points only (atomically), then keeps appending to it. */
    void compact(Collection<StoredPoint> points) throws IOException {
        Path tmp = dir.resolve("points.log.tmp");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            List<StoredPoint> batch = new ArrayList<>(1000);
            for (StoredPoint p : points) {
                batch.add(p);
                if (batch.size() == 1000) {
                    writeUpsert(o, batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                writeUpsert(o, batch);
            }
        }
        Files.move(tmp, dir.resolve("points.log"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out = openForAppend(true);
    }

    synchronized void appendUpsert(List<StoredPoint> points) {
        try {
            writeUpsert(out, points);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    synchronized void appendDelete(Collection<PointKey> ids) {
        try {
            out.write(DELETE);
            PointsIdsList.Builder record = PointsIdsList.newBuilder();
            ids.forEach(id -> record.addIds(id.toProto()));
            record.build().writeDelimitedTo(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (out != null) {
            out.close();
            out = null;
        }
    }

    /** Closes and removes the collection's files. */
    void destroy() throws IOException {
        close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    private OutputStream openForAppend(boolean append) throws IOException {
        if (out != null) {
            out.close();
        }
        return new BufferedOutputStream(
                Files.newOutputStream(
                        dir.resolve("points.log"),
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING),
                1 << 16);
    }

    private static void writeUpsert(OutputStream o, List<StoredPoint> points) throws IOException {
        o.write(UPSERT);
        UpsertPoints.Builder record = UpsertPoints.newBuilder();
        for (StoredPoint p : points) {
            record.addPoints(toProto(p));
        }
        record.build().writeDelimitedTo(o);
    }

    private static PointStruct toProto(StoredPoint p) {
        DenseVector.Builder dense = DenseVector.newBuilder();
        for (float x : p.vector()) {
            dense.addData(x);
        }
        return PointStruct.newBuilder()
                .setId(p.id().toProto())
                .putAllPayload(p.payload())
                .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().setDense(dense)))
                .build();
    }

    private static StoredPoint fromProto(PointStruct p) {
        List<Float> data = p.getVectors().getVector().getDense().getDataList();
        float[] vector = new float[data.size()];
        for (int i = 0; i < vector.length; i++) {
            vector[i] = data.get(i);
        }
        return new StoredPoint(PointKey.of(p.getId()), vector, p.getPayloadMap());
    }
}
