package io.trisync.embedded;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A non-unique index for the embedded MongoDB, which ignores every index that is not unique (it
 * answers such queries by reading the whole collection). Held in memory and rebuilt from the
 * documents when the server opens a collection. The index's keys but the last are matched by
 * equality; the last orders the entries (then the document id), so a query naming the first keys
 * with plain values is answered from the documents that have them, a range on the last key (such as
 * {@code _id > after}) narrowed to it; the server still applies the whole query, sort and limit to
 * what the index returns, so the index decides only which documents are read.
 *
 * <p>So a partition's page of file records ({@code tenantId}, {@code partition}, {@code _id >
 * after}) costs what the partition holds, not what the collection holds.
 */
final class SecondaryIndex<P> extends Index<P> {

    private static final String ID = "_id";
    private static final Comparator<Object> VALUES = ValueComparator.asc();
    private static final Set<String> RANGE = Set.of("$gt", "$gte", "$lt", "$lte");

    /** Below and above every value, for the ends of a range. */
    private static final Object LOWEST = new Object();

    private static final Object HIGHEST = new Object();

    /** An entry's place: the last key's value, then the document's id. */
    private record Place(Object value, Object id) {}

    private static final Comparator<Place> ORDER = Comparator.<Place, Object>comparing(
                    Place::value, SecondaryIndex::compare)
            .thenComparing(Place::id, SecondaryIndex::compare);

    private final List<String> equal;
    private final String last;
    private final Map<List<Object>, ConcurrentSkipListMap<Place, P>> entries = new ConcurrentHashMap<>();
    private final AtomicLong count = new AtomicLong();
    /**
     * Set once a document holds an array under (or on the way to) a key of the index, or a value the
     * order cannot place: a query on an element of it must find the document, which entries by whole
     * value cannot do, so the index answers nothing from then on, and such documents are not entered.
     */
    private volatile boolean disabled;

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        List<String> names = keys.stream().map(IndexKey::getKey).toList();
        this.equal = names.subList(0, names.size() - 1);
        this.last = names.get(names.size() - 1);
    }

    private static int compare(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        if (a == LOWEST || b == HIGHEST) {
            return -1;
        }
        if (a == HIGHEST || b == LOWEST) {
            return 1;
        }
        return VALUES.compare(a, b);
    }

    private static Object normal(Object value) {
        if (Missing.isNullOrMissing(value)) {
            return null;
        }
        if (value instanceof Number n && !(value instanceof Long l && l != (long) (double) l)) {
            double d = n.doubleValue();
            return d == -0.0 ? 0.0 : d;
        }
        return value;
    }

    private List<Object> prefix(Document document) {
        List<Object> values = new ArrayList<>(equal.size());
        for (String key : equal) {
            values.add(normal(Utils.getSubdocumentValue(document, key)));
        }
        return values;
    }

    /** The equality values a query names (its keys are the index's, dotted or not, as written). */
    private List<Object> prefixOfQuery(Document query) {
        List<Object> values = new ArrayList<>(equal.size());
        for (String key : equal) {
            values.add(normal(query.get(key)));
        }
        return values;
    }

    private Place place(Document document) {
        return new Place(normal(Utils.getSubdocumentValue(document, last)), normal(document.get(ID)));
    }

    /**
     * Once the index is disabled it counts as sparse for the server: a document it holds no entry for
     * is then skipped when removed, instead of failing the remove.
     */
    @Override
    protected boolean isSparse() {
        return disabled || super.isSparse();
    }

    /** Whether a document has an array under or on the path to one of the index's keys. */
    private boolean arrays(Document document) {
        for (String key : keys()) {
            if (Utils.getSubdocumentValueCollectionAware(document, key) instanceof Collection) {
                return true;
            }
        }
        return false;
    }

    /** A sparse index leaves out documents that have none of its keys. */
    private boolean indexed(Document document) {
        if (!super.isSparse()) {
            return true;
        }
        for (String key : keys()) {
            if (!Missing.isNullOrMissing(Utils.getSubdocumentValue(document, key))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public P getPosition(Document document) {
        if (disabled) {
            return null;
        }
        NavigableMap<Place, P> at = entries.get(prefix(document));
        return at == null ? null : at.get(place(document));
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {}

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        if (!indexed(document)) {
            return;
        }
        if (arrays(document)) {
            disabled = true;
            return;
        }
        try {
            P before = entries.computeIfAbsent(prefix(document), k -> new ConcurrentSkipListMap<>(ORDER))
                    .put(place(document), position);
            if (before == null) {
                count.incrementAndGet();
            }
        } catch (RuntimeException unordered) {
            // A value the comparator cannot order (a regular expression, code): answer nothing from here on.
            disabled = true;
        }
    }

    @Override
    public P remove(Document document) {
        P removed;
        try {
            NavigableMap<Place, P> at = entries.get(prefix(document));
            removed = at == null ? null : at.remove(place(document));
        } catch (RuntimeException unordered) {
            disabled = true;
            return null;
        }
        if (removed != null) {
            count.decrementAndGet();
        }
        return removed;
    }

    /**
     * Whether the query names every key but the last with a plain value (and, for an index of one
     * key, names that key): then every document it matches is among those {@link #getPositions} gives.
     */
    @Override
    public boolean canHandle(Document query) {
        if (disabled || equal.isEmpty() && !query.containsKey(last)) {
            return false;
        }
        for (String key : equal) {
            if (!query.containsKey(key)) {
                return false;
            }
            Object value = query.get(key);
            if (value instanceof Document
                    || value instanceof Collection
                    || BsonRegularExpression.isRegularExpression(value)
                    || Missing.isNullOrMissing(value) && super.isSparse()) {
                return false;
            }
        }
        Object condition = query.get(last);
        if (super.isSparse()) {
            // Documents without the keys are not in a sparse index: only a condition that needs a value
            // (equality or a range) can be answered from it.
            return !Missing.isNullOrMissing(condition)
                    && !(condition instanceof Document d0
                            && d0.values().stream().anyMatch(Missing::isNullOrMissing))
                    && !BsonRegularExpression.isRegularExpression(condition)
                    && (!(condition instanceof Document d) || RANGE.containsAll(d.keySet()));
        }
        return !BsonRegularExpression.isRegularExpression(condition);
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        NavigableMap<Place, P> at = entries.get(prefixOfQuery(query));
        if (at == null) {
            return List.of();
        }
        Object condition = query.get(last);
        if (condition == null || condition instanceof Document && !RANGE.containsAll(((Document) condition).keySet())) {
            return new ArrayList<>(at.values());
        }
        if (!(condition instanceof Document range)) {
            Object value = normal(condition);
            return new ArrayList<>(at.subMap(new Place(value, LOWEST), true, new Place(value, HIGHEST), true)
                    .values());
        }
        Place from = new Place(LOWEST, LOWEST);
        Place to = new Place(HIGHEST, HIGHEST);
        for (Map.Entry<String, Object> bound : range.entrySet()) {
            Object value = normal(bound.getValue());
            switch (bound.getKey()) {
                case "$gt" -> from = later(from, new Place(value, HIGHEST));
                case "$gte" -> from = later(from, new Place(value, LOWEST));
                case "$lt" -> to = earlier(to, new Place(value, LOWEST));
                default -> to = earlier(to, new Place(value, HIGHEST));
            }
        }
        if (ORDER.compare(from, to) > 0) {
            return List.of();
        }
        // The server applies the whole query to what is returned (types, bounds), so ends may be loose.
        return new ArrayList<>(at.subMap(from, true, to, true).values());
    }

    private static Place later(Place a, Place b) {
        return ORDER.compare(a, b) >= 0 ? a : b;
    }

    private static Place earlier(Place a, Place b) {
        return ORDER.compare(a, b) <= 0 ? a : b;
    }

    @Override
    public long getCount() {
        return count.get();
    }

    @Override
    public long getDataSize() {
        return count.get() * 64;
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {}

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) {
        if (disabled) {
            remove(oldDocument);
            return;
        }
        if (indexed(oldDocument)
                && !arrays(oldDocument)
                && !arrays(newDocument)
                && indexed(newDocument)
                && prefix(oldDocument).equals(prefix(newDocument))
                && Objects.equals(place(oldDocument), place(newDocument))) {
            entries.get(prefix(newDocument)).put(place(newDocument), position);
            return;
        }
        remove(oldDocument);
        add(newDocument, position, collection);
    }

    @Override
    public void drop() {
        entries.clear();
        count.set(0);
    }
}
