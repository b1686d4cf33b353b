package io.trisync.embedded;

import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;

/**
 * A unique index of the embedded MongoDB ({@code _id} and every index declared unique), kept in an
 * MVStore map as the stock H2 backend keeps it, but ordered by BSON value order. The stock map leaves
 * its keys to {@link ObjectDataType}, which orders a key that is not {@link Comparable} (as the
 * server's {@link KeyValue} is not) by Java-serializing both sides of every comparison: each lookup by
 * {@code _id} serialized a key a dozen times or more, and was the largest single cost of the server's
 * writes (see docs/benchmarks.md, 2026-12-06).
 *
 * <p>Keys are still written to pages as {@link ObjectDataType} writes them, so a file keeps its
 * format; only the order differs. A map built in the old order is rebuilt in the new one when it is
 * first opened ({@link #ordered}), and {@link #ORDERED} records that it was. (A name stays recorded
 * after its index is dropped: an index made again under it starts empty.)
 */
final class UniqueIndex extends AbstractUniqueIndex<Object> {

    /** Names of the index maps already in BSON value order. */
    static final String ORDERED = "trisync.uniqueIndexOrder";

    private static final Comparator<Object> VALUES = ValueComparator.asc();

    private final MVMap<KeyValue, Object> map;

    private UniqueIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        this.map = map;
    }

    /** Entries copied between two commits of the file while an index is rebuilt in value order. */
    static final int REORDER_CHUNK = 50_000;

    /**
     * Opens the index kept in {@code mapName} (the stock backend's name for it), rebuilding it in
     * value order if it was written in the old one.
     */
    static UniqueIndex open(MVStore file, String mapName, String name, List<IndexKey> keys, boolean sparse) {
        return new UniqueIndex(ordered(file, mapName, REORDER_CHUNK), name, keys, sparse);
    }

    /**
     * The map {@code mapName} in value order. One written in the old order is copied entry by entry
     * into a fresh map ({@code mapName + ".reordering"}), committing the file every {@code chunk}
     * entries so that memory holds one chunk's pages, not the whole index; then the old map is
     * removed, the fresh one takes its name and {@link #ORDERED} records it, in one commit. Until
     * then the old map is untouched, so a rebuild cut off by a crash starts again on the next open.
     */
    static MVMap<KeyValue, Object> ordered(MVStore file, String mapName, int chunk) {
        MVMap<String, Boolean> ordered = file.openMap(ORDERED);
        MVMap<KeyValue, Object> map = file.openMap(mapName, keyOrder());
        if (ordered.containsKey(mapName)) {
            return map;
        }
        if (!map.isEmpty()) {
            String rebuilding = mapName + ".reordering";
            if (file.hasMap(rebuilding)) {
                file.removeMap(rebuilding);
            }
            MVMap<KeyValue, Object> fresh = file.openMap(rebuilding, keyOrder());
            // A cursor from the start walks pages left to right and never compares: any order reads.
            Cursor<KeyValue, Object> entries = map.cursor(null);
            long copied = 0;
            while (entries.hasNext()) {
                KeyValue key = entries.next();
                fresh.put(key, entries.getValue());
                if (++copied % chunk == 0) {
                    file.commit();
                }
            }
            file.removeMap(map);
            file.renameMap(fresh, mapName);
            map = fresh;
        }
        ordered.put(mapName, true);
        return map;
    }

    private static MVMap.Builder<KeyValue, Object> keyOrder() {
        return new MVMap.Builder<KeyValue, Object>().keyType(new KeyOrder());
    }

    /**
     * Orders two index keys value by value as MongoDB orders BSON values (so 1 and 1.0 are one key, as
     * MongoDB's unique indexes hold them); anything else as {@link ObjectDataType} does.
     */
    static final class KeyOrder extends ObjectDataType {

        @Override
        public int compare(Object a, Object b) {
            if (a instanceof KeyValue x && b instanceof KeyValue y) {
                int n = Math.min(x.size(), y.size());
                for (int i = 0; i < n; i++) {
                    int c = VALUES.compare(x.get(i), y.get(i));
                    if (c != 0) {
                        return c;
                    }
                }
                return Integer.compare(x.size(), y.size());
            }
            return super.compare(a, b);
        }
    }

    @Override
    protected Object removeDocument(KeyValue key) {
        return map.remove(key);
    }

    @Override
    protected boolean putKeyPosition(KeyValue key, Object position) {
        return map.putIfAbsent(key, Missing.ofNullable(position)) == null;
    }

    @Override
    protected Iterable<Map.Entry<KeyValue, Object>> getIterable() {
        return map.entrySet();
    }

    @Override
    protected Object getPosition(KeyValue key) {
        return map.get(key);
    }

    @Override
    public long getCount() {
        return map.sizeAsLong();
    }

    @Override
    public boolean isEmpty() {
        return map.isEmpty();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }
}
