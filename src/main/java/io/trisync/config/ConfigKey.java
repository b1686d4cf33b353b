package io.trisync.config;

import java.util.List;

/**
 * One configuration key: its environment variable, its path in {@code conf/config.json}, its type
 * and its documented meaning. {@link ConfigKeys#ALL} is the single list the loader, the validation
 * and the README table are written from.
 */
public record ConfigKey(String env, String path, Type type, String description) {

    /** The value types a key may hold; each has its own validation. */
    public enum Type {
        STRING,
        PORT,
        POSITIVE_INT,
        NON_NEGATIVE_INT,
        BOOLEAN
    }

    /** The JSON path split at dots, e.g. {@code ["sync", "batchSize"]}. */
    public List<String> pathSegments() {
        return List.of(path.split("\\."));
    }
}
