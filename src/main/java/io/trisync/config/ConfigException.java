package io.trisync.config;

/** A configuration value that cannot be used; the message names the key, the value and what is wrong. */
public final class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String key, Object value, String problem) {
        this(key, "Invalid configuration " + key + "=" + quote(value) + ": " + problem);
    }

    private ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    /**
     * A value that is well formed but that this machine cannot use (a port another process holds, a
     * DATA_DIR that is a file), found while the node starts: {@code HTTP_PORT 8080 is in use by another
     * process}.
     */
    public static ConfigException unusable(String key, Object value, String problem) {
        return new ConfigException(key, key + " " + value + " " + problem);
    }

    /**
     * A value that is well formed but disagrees with what the deployment's data was written with, found
     * while the node starts; {@code line} is the whole message and names {@code key}, both values and
     * what to set: {@code SYNC_PARTITIONS is 8, but this deployment's data was written with 4 partitions
     * (…); set SYNC_PARTITIONS back to 4}.
     */
    public static ConfigException againstData(String key, String line) {
        return new ConfigException(key, line);
    }

    /**
     * A value whose own text should not be echoed (a connection string may hold a password): {@code
     * Invalid configuration MONGO_URI: <problem>}.
     */
    public static ConfigException unprintable(String key, String problem) {
        return new ConfigException(key, "Invalid configuration " + key + ": " + problem);
    }

    /** Keys of a config file that trisync does not read, most likely misspelt. */
    static ConfigException unknownKeys(String file, String keys) {
        return new ConfigException("CONFIG_FILE", "Invalid configuration file " + file + ": unknown " + keys);
    }

    /** The environment variable (or JSON path) whose value was rejected. */
    public String key() {
        return key;
    }

    private static String quote(Object value) {
        return value == null ? "<missing>" : "\"" + value + "\"";
    }
}
