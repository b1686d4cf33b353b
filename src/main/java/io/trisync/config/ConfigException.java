package io.trisync.config;

/** A configuration value that cannot be used; the message names the key, the value and what is wrong. */
public final class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String key, Object value, String problem) {
        super("Invalid configuration " + key + "=" + quote(value) + ": " + problem);
        this.key = key;
    }

    /** The environment variable (or JSON path) whose value was rejected. */
    public String key() {
        return key;
    }

    private static String quote(Object value) {
        return value == null ? "<missing>" : "\"" + value + "\"";
    }
}
