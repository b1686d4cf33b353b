package io.trisync.embedded.qdrant;

import io.qdrant.client.grpc.Common.Condition;
import io.qdrant.client.grpc.Common.FieldCondition;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.Match;
import io.qdrant.client.grpc.JsonWithInt.Value;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The ids of the points holding each value of one payload field (string and integer values; arrays
 * flattened as the filter reads them). A filter whose {@code must} clauses include an exact keyword
 * or integer match on an indexed field is evaluated on that value's points only, not on the whole
 * collection, as Qdrant does with its payload indexes. The index only narrows: every candidate is
 * still checked against the whole filter, so results are those of the full scan.
 */
final class PayloadIndex {

    private final String field;
    private final Map<Object, NavigableSet<PointKey>> postings = new HashMap<>();

    PayloadIndex(String field) {
        this.field = field;
    }

    void add(StoredPoint point) {
        for (Value v : PayloadFilter.values(point, field)) {
            Object key = key(v);
            if (key != null) {
                postings.computeIfAbsent(key, k -> new TreeSet<>()).add(point.id());
            }
        }
    }

    void remove(StoredPoint point) {
        for (Value v : PayloadFilter.values(point, field)) {
            Object key = key(v);
            NavigableSet<PointKey> ids = key == null ? null : postings.get(key);
            if (ids != null) {
                ids.remove(point.id());
                if (ids.isEmpty()) {
                    postings.remove(key);
                }
            }
        }
    }

    /**
     * The points that may match {@code filter} as far as the given indexes tell (the smallest posting
     * list among its exact-match {@code must} conditions on indexed fields), or null when no index
     * applies and every point must be checked.
     */
    static NavigableSet<PointKey> candidates(Filter filter, Map<String, PayloadIndex> indexes) {
        if (filter == null || indexes.isEmpty()) {
            return null;
        }
        NavigableSet<PointKey> best = null;
        for (Condition c : filter.getMustList()) {
            if (c.getConditionOneOfCase() != Condition.ConditionOneOfCase.FIELD) {
                continue;
            }
            FieldCondition f = c.getField();
            PayloadIndex index = indexes.get(f.getKey());
            if (index == null || !f.hasMatch()) {
                continue;
            }
            Object key = key(f.getMatch());
            if (key == null) {
                continue;
            }
            NavigableSet<PointKey> ids = index.postings.getOrDefault(key, Collections.emptyNavigableSet());
            if (best == null || ids.size() < best.size()) {
                best = ids;
            }
        }
        return best;
    }

    private static Object key(Value v) {
        return switch (v.getKindCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INTEGER_VALUE -> v.getIntegerValue();
            default -> null;
        };
    }

    private static Object key(Match m) {
        return switch (m.getMatchValueCase()) {
            case KEYWORD -> m.getKeyword();
            case INTEGER -> m.getInteger();
            default -> null;
        };
    }
}
