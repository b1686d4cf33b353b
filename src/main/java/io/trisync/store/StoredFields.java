package io.trisync.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads the fields of a stored document the way this service writes them, and remembers the first
 * one that holds something else (a value set by hand, say) instead of failing: the reader decides
 * what a document it cannot trust becomes ({@link FileRecord#fromDocument(JsonObject, int)}). A
 * field read wrongly gives its empty value (null, 0, -1 for a required whole number).
 */
final class StoredFields {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final JsonObject doc;
    private final String prefix;
    private String unreadable;

    /** {@code prefix}: the path of {@code doc} in the document it is part of ("" at the top, else ending in "."). */
    StoredFields(JsonObject doc, String prefix) {
        this.doc = doc;
        this.prefix = prefix;
    }

    /** The first field (its dotted path) that holds a value this service never writes, or null. */
    String unreadable() {
        return unreadable;
    }

    /** Marks {@code field} as holding a value this service never writes (the first one marked is kept). */
    void unreadable(String field) {
        if (unreadable == null) {
            unreadable = prefix + field;
        }
    }

    /** A string; absent is null, or unreadable when {@code required}. */
    String text(String field, boolean required) {
        Object value = doc.getValue(field);
        if (value instanceof String s) {
            return s;
        }
        if (value != null || required) {
            unreadable(field);
        }
        return null;
    }

    /**
     * A whole number of zero or more (a JSON number with no fraction: a shell writes whole numbers as
     * doubles); absent is 0, or unreadable and -1 when {@code required}; anything else unreadable and -1.
     */
    long whole(String field, boolean required) {
        Object value = doc.getValue(field);
        if (value == null && !required) {
            return 0;
        }
        if (value instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() >= 0) {
            return n.longValue();
        }
        unreadable(field);
        return -1;
    }

    /** One of {@code type}'s constants, stored as its name; required: absent or any other value is unreadable and null. */
    <E extends Enum<E>> E name(String field, Class<E> type) {
        if (doc.getValue(field) instanceof String s) {
            for (E constant : type.getEnumConstants()) {
                if (constant.name().equals(s)) {
                    return constant;
                }
            }
        }
        unreadable(field);
        return null;
    }

    /** A flag; absent is false. */
    boolean flag(String field) {
        Object value = doc.getValue(field);
        if (value == null || value instanceof Boolean) {
            return Boolean.TRUE.equals(value);
        }
        unreadable(field);
        return false;
    }

    /** A SHA-256 in lowercase hex, which every record holds (of its content). */
    String sha256(String field) {
        String value = text(field, true);
        if (value != null && !SHA256.matcher(value).matches()) {
            unreadable(field);
        }
        return value;
    }

    /** An ISO-8601 instant written as text, or null when absent. */
    String instantText(String field) {
        String value = text(field, false);
        if (value != null) {
            try {
                Instant.parse(value);
            } catch (RuntimeException e) {
                unreadable(field);
                return null;
            }
        }
        return value;
    }

    /** An array of strings; empty when absent. */
    List<String> strings(String field) {
        return array(field, array -> {
            for (Object item : array) {
                if (!(item instanceof String)) {
                    throw new IllegalArgumentException("not a string: " + item);
                }
            }
            return array.stream().map(String.class::cast).toList();
        });
    }

    /** A BSON date, or null when absent. */
    Instant date(String field) {
        return date(field, false);
    }

    /** A BSON date; absent is null, or unreadable when {@code required}. */
    Instant date(String field, boolean required) {
        Object value = doc.getValue(field);
        if (value == null && required) {
            unreadable(field);
            return null;
        }
        try {
            return Dates.fromBson(value);
        } catch (RuntimeException e) {
            unreadable(field);
            return null;
        }
    }

    /**
     * A nested document as {@code read} makes it (null when absent); unreadable when it is no
     * document, or when {@code read} fails on it.
     */
    <T> T object(String field, Function<JsonObject, T> read) {
        Object value = doc.getValue(field);
        if (value == null) {
            return null;
        }
        if (value instanceof JsonObject json) {
            try {
                return read.apply(json);
            } catch (RuntimeException e) {
                unreadable(field);
                return null;
            }
        }
        unreadable(field);
        return null;
    }

    /** {@link #object} for the fields a {@link StoredFields} of the nested document reads: the first bad one is named. */
    <T> T nested(String field, Function<StoredFields, T> read) {
        return object(field, json -> {
            StoredFields inner = new StoredFields(json, prefix + field + ".");
            T value = read.apply(inner);
            if (inner.unreadable != null && unreadable == null) {
                unreadable = inner.unreadable;
            }
            return value;
        });
    }

    /** An array as {@code read} makes it (empty when absent); unreadable when it is no array or {@code read} fails. */
    <T> List<T> array(String field, Function<JsonArray, List<T>> read) {
        Object value = doc.getValue(field);
        if (value == null) {
            return List.of();
        }
        if (value instanceof JsonArray array) {
            try {
                return read.apply(array);
            } catch (RuntimeException e) {
                unreadable(field);
                return List.of();
            }
        }
        unreadable(field);
        return List.of();
    }
}
