package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.Vector;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One collection of the embedded Qdrant server: points ordered by id, a single unnamed dense vector
 * per point, brute-force (exact) search. Reads share a lock, writes take it alone; each write is in
 * the {@link CollectionLog} before it is acknowledged when the server persists.
 */
final class QdrantCollection {

    /** A search or query hit. */
    record Hit(StoredPoint point, float score) {}

    private final String name;
    private final CreateCollection definition;
    private final VectorParams params;
    private final NavigableMap<PointKey, StoredPoint> points = new TreeMap<>();
    private final Map<String, String> payloadIndexes = new ConcurrentHashMap<>();
    /** Guarded by {@link #lock}, like {@link #points}. */
    private final Map<String, PayloadIndex> indexes = new HashMap<>();

    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final CollectionLog log;

    private QdrantCollection(String name, CreateCollection definition, CollectionLog log) {
        this.name = name;
        this.definition = definition;
        this.params = vectorParams(definition);
        this.log = log;
    }

    /** A new, empty collection; {@code dir} null keeps it in memory only. */
    static QdrantCollection create(CreateCollection definition, Path dir) {
        CollectionLog log = dir == null ? null : CollectionLog.create(dir, definition);
        return new QdrantCollection(definition.getCollectionName(), definition, log);
    }

    /** A collection read back from {@code dir}: its definition, then its log replayed and compacted. */
    static QdrantCollection load(Path dir) throws IOException {
        CreateCollection definition = CollectionLog.readDefinition(dir);
        NavigableMap<PointKey, StoredPoint> restored = new TreeMap<>();
        CollectionLog log = CollectionLog.open(
                dir, batch -> batch.forEach(p -> restored.put(p.id(), p)), ids -> ids.forEach(restored::remove));
        log.compact(restored.values());
        QdrantCollection collection = new QdrantCollection(definition.getCollectionName(), definition, log);
        collection.points.putAll(restored);
        return collection;
    }

    String name() {
        return name;
    }

    CreateCollection definition() {
        return definition;
    }

    VectorParams params() {
        return params;
    }

    /** Indexed payload fields and their declared types, as the collection info reports them. */
    Map<String, String> payloadIndexes() {
        return Collections.unmodifiableMap(payloadIndexes);
    }

    /** Indexes {@code field} (built from the points held now, then kept up to date by every write). */
    void createIndex(String field, String type) {
        lock.writeLock().lock();
        try {
            payloadIndexes.put(field, type);
            if (!indexes.containsKey(field)) {
                PayloadIndex index = new PayloadIndex(field);
                points.values().forEach(index::add);
                indexes.put(field, index);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    void dropIndex(String field) {
        lock.writeLock().lock();
        try {
            payloadIndexes.remove(field);
            indexes.remove(field);
        } finally {
            lock.writeLock().unlock();
        }
    }

    void upsert(List<PointStruct> incoming) {
        List<StoredPoint> prepared = new ArrayList<>(incoming.size());
        for (PointStruct p : incoming) {
            prepared.add(new StoredPoint(PointKey.of(p.getId()), vectorOf(p), p.getPayloadMap()));
        }
        lock.writeLock().lock();
        try {
            if (log != null) {
                log.appendUpsert(prepared);
            }
            prepared.forEach(this::put);
        } finally {
            lock.writeLock().unlock();
        }
    }

    void delete(Collection<PointKey> ids) {
        lock.writeLock().lock();
        try {
            List<PointKey> present = ids.stream().filter(points::containsKey).toList();
            if (log != null && !present.isEmpty()) {
                log.appendDelete(present);
            }
            present.forEach(this::remove);
        } finally {
            lock.writeLock().unlock();
        }
    }

    void deleteMatching(Filter filter) {
        lock.writeLock().lock();
        try {
            List<PointKey> ids = new ArrayList<>();
            for (StoredPoint p : candidates(filter, null)) {
                if (PayloadFilter.matches(filter, p)) {
                    ids.add(p.id());
                }
            }
            if (log != null && !ids.isEmpty()) {
                log.appendDelete(ids);
            }
            ids.forEach(this::remove);
        } finally {
            lock.writeLock().unlock();
        }
    }

    List<StoredPoint> get(List<PointKey> ids) {
        lock.readLock().lock();
        try {
            List<StoredPoint> out = new ArrayList<>();
            for (PointKey id : ids) {
                StoredPoint p = points.get(id);
                if (p != null) {
                    out.add(p);
                }
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Up to {@code limit + 1} matching points in id order, starting at {@code from} (inclusive, or the
     * first point): the extra one, when present, is the next page's offset.
     */
    List<StoredPoint> scroll(Filter filter, PointKey from, int limit, int skip) {
        lock.readLock().lock();
        try {
            Iterable<StoredPoint> range = candidates(filter, from);
            List<StoredPoint> out = new ArrayList<>(Math.min(limit + 1, 4096));
            int skipped = 0;
            for (StoredPoint p : range) {
                if (filter == null || PayloadFilter.matches(filter, p)) {
                    if (skipped++ < skip) {
                        continue;
                    }
                    out.add(p);
                    if (out.size() > limit) {
                        break;
                    }
                }
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    long count(Filter filter) {
        lock.readLock().lock();
        try {
            if (filter == null) {
                return points.size();
            }
            long n = 0;
            for (StoredPoint p : candidates(filter, null)) {
                if (PayloadFilter.matches(filter, p)) {
                    n++;
                }
            }
            return n;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The best {@code offset + limit} matches, best first, ties by id; then the first {@code offset} dropped. */
    List<Hit> search(float[] query, Filter filter, int limit, int offset, Float threshold) {
        checkDimension(query.length);
        Distance distance = params.getDistance();
        float[] q = Scoring.prepare(distance, query);
        boolean higherBetter = Scoring.higherIsBetter(distance);
        Comparator<Hit> better = (a, b) -> {
            int byScore = higherBetter ? Float.compare(b.score(), a.score()) : Float.compare(a.score(), b.score());
            return byScore != 0 ? byScore : a.point().id().compareTo(b.point().id());
        };
        int keep = limit + offset;
        PriorityQueue<Hit> worstFirst = new PriorityQueue<>(Math.max(1, keep), better.reversed());
        lock.readLock().lock();
        try {
            for (StoredPoint p : candidates(filter, null)) {
                if (filter != null && !PayloadFilter.matches(filter, p)) {
                    continue;
                }
                float score = Scoring.score(distance, q, p.vector());
                if (threshold != null && (higherBetter ? score < threshold : score > threshold)) {
                    continue;
                }
                worstFirst.add(new Hit(p, score));
                if (worstFirst.size() > keep) {
                    worstFirst.poll();
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        List<Hit> ranked = new ArrayList<>(worstFirst);
        ranked.sort(better);
        return offset >= ranked.size() ? List.of() : ranked.subList(offset, ranked.size());
    }

    /**
     * The points a filtered read must look at, in id order from {@code from} (inclusive; null: the
     * first): those of the narrowest payload index the filter's exact matches hit, else all. Call
     * holding the lock.
     */
    private Iterable<StoredPoint> candidates(Filter filter, PointKey from) {
        NavigableSet<PointKey> ids = PayloadIndex.candidates(filter, indexes);
        if (ids == null) {
            return from == null ? points.values() : points.tailMap(from, true).values();
        }
        Iterable<PointKey> range = from == null ? ids : ids.tailSet(from, true);
        return () -> new Iterator<>() {
            private final Iterator<PointKey> keys = range.iterator();

            @Override
            public boolean hasNext() {
                return keys.hasNext();
            }

            @Override
            public StoredPoint next() {
                return points.get(keys.next());
            }
        };
    }

    /** Holding the write lock: stores {@code p}, replacing any point of its id, in the indexes too. */
    private void put(StoredPoint p) {
        StoredPoint old = points.put(p.id(), p);
        for (PayloadIndex index : indexes.values()) {
            if (old != null) {
                index.remove(old);
            }
            index.add(p);
        }
    }

    private void remove(PointKey id) {
        StoredPoint old = points.remove(id);
        if (old != null) {
            indexes.values().forEach(index -> index.remove(old));
        }
    }

    long size() {
        lock.readLock().lock();
        try {
            return points.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    void close() {
        if (log != null) {
            try {
                log.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    void destroy() {
        if (log != null) {
            try {
                log.destroy();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private float[] vectorOf(PointStruct p) {
        if (!p.hasVectors() || !p.getVectors().hasVector()) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: point " + p.getId() + " has no unnamed dense vector"
                            + " (named vectors are not implemented by the embedded server)")
                    .asRuntimeException();
        }
        float[] v = floats(p.getVectors().getVector());
        checkDimension(v.length);
        return Scoring.prepare(params.getDistance(), v);
    }

    @SuppressWarnings("deprecation")
    static float[] floats(Vector vector) {
        List<Float> data = vector.hasDense() ? vector.getDense().getDataList() : vector.getDataList();
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i);
        }
        return out;
    }

    private void checkDimension(int actual) {
        if (actual != params.getSize()) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: Vector dimension error: expected dim: " + params.getSize() + ", got "
                            + actual)
                    .asRuntimeException();
        }
    }

    private static VectorParams vectorParams(CreateCollection definition) {
        if (!definition.hasVectorsConfig() || !definition.getVectorsConfig().hasParams()) {
            throw PayloadFilter.unsupported("collections without a single unnamed vector configuration");
        }
        VectorParams params = definition.getVectorsConfig().getParams();
        if (params.getSize() < 1) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: vector size must be at least 1")
                    .asRuntimeException();
        }
        if (params.getDistance() == Distance.UnknownDistance) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: unknown distance")
                    .asRuntimeException();
        }
        return params;
    }
}
