package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.qdrant.client.grpc.Common.Condition;
import io.qdrant.client.grpc.Common.FieldCondition;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.Common.Match;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Common.Range;
import io.qdrant.client.grpc.Common.ValuesCount;
import io.qdrant.client.grpc.JsonWithInt.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates a Qdrant {@link Filter} against one point, following Qdrant's documented semantics:
 * every {@code must} condition holds, at least one {@code should} holds (when any are given), no
 * {@code must_not} holds, and {@code min_should} counts. A field holding an array matches when any
 * element matches. Geo, datetime, nested-object and has-vector conditions answer UNIMPLEMENTED.
 */
final class PayloadFilter {

    private PayloadFilter() {}

    static boolean matches(Filter filter, StoredPoint point) {
        for (Condition c : filter.getMustList()) {
            if (!matches(c, point)) {
                return false;
            }
        }
        for (Condition c : filter.getMustNotList()) {
            if (matches(c, point)) {
                return false;
            }
        }
        if (filter.getShouldCount() > 0 && filter.getShouldList().stream().noneMatch(c -> matches(c, point))) {
            return false;
        }
        if (filter.hasMinShould()) {
            long hits = filter.getMinShould().getConditionsList().stream()
                    .filter(c -> matches(c, point))
                    .count();
            return hits >= filter.getMinShould().getMinCount();
        }
        return true;
    }

    private static boolean matches(Condition condition, StoredPoint point) {
        return switch (condition.getConditionOneOfCase()) {
            case FIELD -> matchesField(condition.getField(), point);
            case FILTER -> matches(condition.getFilter(), point);
            case HAS_ID -> hasId(condition.getHasId().getHasIdList(), point);
            case IS_EMPTY -> isEmpty(values(point, condition.getIsEmpty().getKey()));
            case IS_NULL -> isNull(values(point, condition.getIsNull().getKey()));
            default -> throw unsupported("condition " + condition.getConditionOneOfCase());
        };
    }

    private static boolean hasId(List<PointId> ids, StoredPoint point) {
        for (PointId id : ids) {
            if (PointKey.of(id).equals(point.id())) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesField(FieldCondition field, StoredPoint point) {
        List<Value> values = values(point, field.getKey());
        if (field.hasGeoBoundingBox() || field.hasGeoRadius() || field.hasGeoPolygon() || field.hasDatetimeRange()) {
            throw unsupported("geo and datetime conditions");
        }
        if (field.hasIsEmpty()) {
            return isEmpty(values) == field.getIsEmpty();
        }
        if (field.hasIsNull()) {
            return isNull(values) == field.getIsNull();
        }
        if (field.hasMatch()) {
            return matchesValue(field.getMatch(), present(values));
        }
        if (field.hasRange()) {
            return present(values).stream().anyMatch(v -> inRange(field.getRange(), v));
        }
        if (field.hasValuesCount()) {
            return countInRange(field.getValuesCount(), present(values).size());
        }
        throw Status.INVALID_ARGUMENT
                .withDescription("Wrong input: field condition on " + field.getKey() + " has no condition")
                .asRuntimeException();
    }

    private static boolean matchesValue(Match match, List<Value> values) {
        return switch (match.getMatchValueCase()) {
            case KEYWORD -> values.stream()
                    .anyMatch(v -> isString(v) && v.getStringValue().equals(match.getKeyword()));
            case INTEGER -> values.stream().anyMatch(v -> isInteger(v) && v.getIntegerValue() == match.getInteger());
            case BOOLEAN -> values.stream().anyMatch(v -> v.hasBoolValue() && v.getBoolValue() == match.getBoolean());
            case TEXT -> values.stream()
                    .anyMatch(v -> isString(v) && v.getStringValue().contains(match.getText()));
            case PHRASE -> values.stream()
                    .anyMatch(v -> isString(v) && v.getStringValue().contains(match.getPhrase()));
            case TEXT_ANY -> values.stream()
                    .anyMatch(v -> isString(v) && containsAnyWord(v.getStringValue(), match.getTextAny()));
            case KEYWORDS -> anyIn(values, new HashSet<>(match.getKeywords().getStringsList()), true);
            case INTEGERS -> anyIn(values, new HashSet<>(match.getIntegers().getIntegersList()), false);
            case EXCEPT_KEYWORDS -> anyOutside(
                    values, new HashSet<>(match.getExceptKeywords().getStringsList()), true);
            case EXCEPT_INTEGERS -> anyOutside(
                    values, new HashSet<>(match.getExceptIntegers().getIntegersList()), false);
            default -> throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: empty match")
                    .asRuntimeException();
        };
    }

    private static boolean anyIn(List<Value> values, Set<?> set, boolean strings) {
        return values.stream()
                .anyMatch(v -> strings
                        ? isString(v) && set.contains(v.getStringValue())
                        : isInteger(v) && set.contains(v.getIntegerValue()));
    }

    /** Qdrant's "except": the field is absent, or holds at least one value outside the set. */
    private static boolean anyOutside(List<Value> values, Set<?> set, boolean strings) {
        if (values.isEmpty()) {
            return true;
        }
        return values.stream()
                .anyMatch(v -> strings
                        ? !(isString(v) && set.contains(v.getStringValue()))
                        : !(isInteger(v) && set.contains(v.getIntegerValue())));
    }

    private static boolean containsAnyWord(String text, String words) {
        for (String word : words.split("\\s+")) {
            if (!word.isEmpty() && text.contains(word)) {
                return true;
            }
        }
        return false;
    }

    private static boolean inRange(Range range, Value value) {
        Double number = number(value);
        if (number == null) {
            return false;
        }
        double x = number;
        return (!range.hasLt() || x < range.getLt())
                && (!range.hasGt() || x > range.getGt())
                && (!range.hasLte() || x <= range.getLte())
                && (!range.hasGte() || x >= range.getGte());
    }

    private static boolean countInRange(ValuesCount count, long n) {
        return (!count.hasLt() || n < count.getLt())
                && (!count.hasGt() || n > count.getGt())
                && (!count.hasLte() || n <= count.getLte())
                && (!count.hasGte() || n >= count.getGte());
    }

    private static Double number(Value value) {
        return switch (value.getKindCase()) {
            case INTEGER_VALUE -> (double) value.getIntegerValue();
            case DOUBLE_VALUE -> value.getDoubleValue();
            default -> null;
        };
    }

    private static boolean isString(Value v) {
        return v.getKindCase() == Value.KindCase.STRING_VALUE;
    }

    private static boolean isInteger(Value v) {
        return v.getKindCase() == Value.KindCase.INTEGER_VALUE;
    }

    private static boolean isEmpty(List<Value> values) {
        return present(values).isEmpty();
    }

    private static boolean isNull(List<Value> values) {
        return values.stream().anyMatch(v -> v.getKindCase() == Value.KindCase.NULL_VALUE);
    }

    private static List<Value> present(List<Value> values) {
        return values.stream()
                .filter(v ->
                        v.getKindCase() != Value.KindCase.NULL_VALUE && v.getKindCase() != Value.KindCase.KIND_NOT_SET)
                .toList();
    }

    /** The values at a dotted path; arrays along the way are flattened as Qdrant does. */
    static List<Value> values(StoredPoint point, String key) {
        String[] path = key.replace("[]", "").split("\\.");
        List<Value> current = new ArrayList<>();
        Value root = point.payload().get(path[0]);
        if (root == null) {
            return List.of();
        }
        current.add(root);
        for (int i = 1; i < path.length; i++) {
            List<Value> next = new ArrayList<>();
            for (Value v : flatten(current)) {
                if (v.hasStructValue()) {
                    Map<String, Value> fields = v.getStructValue().getFieldsMap();
                    Value child = fields.get(path[i]);
                    if (child != null) {
                        next.add(child);
                    }
                }
            }
            current = next;
        }
        return flatten(current);
    }

    private static List<Value> flatten(List<Value> values) {
        List<Value> out = new ArrayList<>();
        for (Value v : values) {
            if (v.hasListValue()) {
                out.addAll(v.getListValue().getValuesList());
            } else {
                out.add(v);
            }
        }
        return out;
    }

    static RuntimeException unsupported(String what) {
        return Status.UNIMPLEMENTED
                .withDescription("The embedded Qdrant server does not implement " + what)
                .asRuntimeException();
    }
}
