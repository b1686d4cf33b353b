package io.trisync.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Builds {@link TrisyncConfig} from the defaults inside the jar ({@code conf/config.json}), the config
 * file merged over them ({@code CONFIG_FILE}, else the working directory's {@code conf/config.json}
 * if there is one), then environment variables, then validation. Any bad value throws {@link
 * ConfigException} naming the key, so a node never starts half-configured.
 */
public final class ConfigLoader {

    static final String DEFAULT_FILE = "conf/config.json";
    private static final long MIN_MULTIPART_BYTES = 5L * 1024 * 1024;

    private ConfigLoader() {}

    /** Loads the defaults, the config file and overrides from the process environment. */
    public static TrisyncConfig load() {
        return load(System.getenv());
    }

    /**
     * Loads the built-in defaults, merges the config file over them, then applies {@code env}. A file
     * holds only the keys it changes; a {@code CONFIG_FILE} that cannot be read, or a key in the file
     * that trisync does not know, is refused rather than silently falling back to the defaults.
     */
    public static TrisyncConfig load(Map<String, String> env) {
        JsonObject json = builtIn();
        String named = env.get("CONFIG_FILE");
        if (named != null && !named.isBlank()) {
            json.mergeIn(file(Path.of(named.trim())), true);
        } else if (Files.isRegularFile(Path.of(DEFAULT_FILE))) {
            json.mergeIn(file(Path.of(DEFAULT_FILE)), true);
        }
        return fromJson(json, env);
    }

    /** Applies {@code env} on top of {@code defaults} and validates the result. */
    public static TrisyncConfig fromJson(JsonObject defaults, Map<String, String> env) {
        JsonObject json = defaults.copy();
        for (ConfigKey key : ConfigKeys.ALL) {
            String raw = env.get(key.env());
            if (raw != null) {
                put(json, key, parse(key, raw.trim()));
            }
        }
        for (ConfigKey key : ConfigKeys.ALL) {
            check(key, get(json, key));
        }
        return build(json);
    }

    /** The copy of {@code conf/config.json} inside the jar: a value for every key. */
    private static JsonObject builtIn() {
        try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULT_FILE)) {
            if (in == null) {
                throw new IllegalStateException(DEFAULT_FILE + " is missing from the class path");
            }
            return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A config file: a JSON object whose every key trisync reads. */
    private static JsonObject file(Path path) {
        if (!Files.exists(path)) {
            throw new ConfigException("CONFIG_FILE", path, "no such file");
        }
        if (!Files.isRegularFile(path)) {
            throw new ConfigException("CONFIG_FILE", path, "not a regular file");
        }
        JsonObject json;
        try {
            json = new JsonObject(Files.readString(path));
        } catch (IOException | DecodeException e) {
            throw new ConfigException("CONFIG_FILE", path, "cannot be read as JSON: " + e.getMessage());
        }
        List<String> unknown = UnknownKeys.in(json);
        if (!unknown.isEmpty()) {
            throw ConfigException.unknownKeys(
                    path.toString(), (unknown.size() == 1 ? "key " : "keys ") + String.join(", ", unknown));
        }
        return json;
    }

    private static Object parse(ConfigKey key, String raw) {
        switch (key.type()) {
            case STRING:
                return raw;
            case BOOLEAN:
                if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
                    return Boolean.parseBoolean(raw);
                }
                throw new ConfigException(key.env(), raw, "expected true or false");
            default:
                try {
                    return Long.parseLong(raw);
                } catch (NumberFormatException e) {
                    throw new ConfigException(key.env(), raw, "expected a whole number");
                }
        }
    }

    private static void check(ConfigKey key, Object value) {
        if (value == null) {
            throw new ConfigException(key.env(), null, "no value in config file or environment");
        }
        switch (key.type()) {
            case STRING -> {
                if (!(value instanceof String)) {
                    throw new ConfigException(key.env(), value, "expected a string");
                }
            }
            case BOOLEAN -> {
                if (!(value instanceof Boolean)) {
                    throw new ConfigException(key.env(), value, "expected true or false");
                }
            }
            case PORT -> checkRange(key, value, 0, 65535, "expected a port between 0 and 65535");
            case POSITIVE_INT -> checkRange(key, value, 1, Integer.MAX_VALUE, "expected a number above 0");
            case NON_NEGATIVE_INT -> checkRange(key, value, 0, Integer.MAX_VALUE, "expected 0 or more");
        }
    }

    private static void checkRange(ConfigKey key, Object value, long min, long max, String problem) {
        if (!(value instanceof Number n) || n.doubleValue() != n.longValue()) {
            throw new ConfigException(key.env(), value, "expected a whole number");
        }
        if (n.longValue() < min || n.longValue() > max) {
            throw new ConfigException(key.env(), value, problem);
        }
    }

    /** The dimension of the local model's vectors (all-MiniLM-L6-v2). */
    public static final int LOCAL_DIMENSION = 384;

    private static TrisyncConfig build(JsonObject j) {
        var sync = new TrisyncConfig.SyncConfig(
                integer(j, "SYNC_PARTITIONS"),
                integer(j, "SYNC_CHECK_INTERVAL"),
                integer(j, "SYNC_BATCH_SIZE"),
                integer(j, "SYNC_TIMEOUT"),
                integer(j, "SYNC_BASE_TIMEOUT_SECONDS"),
                integer(j, "SYNC_PER_FILE_TIMEOUT_SECONDS"),
                integer(j, "SYNC_MIN_TIMEOUT_SECONDS"),
                integer(j, "SYNC_MAX_TIMEOUT_SECONDS"),
                integer(j, "SYNC_HEARTBEAT_INTERVAL_SECONDS"),
                integer(j, "SYNC_CLEANUP_INTERVAL_SECONDS"),
                integer(j, "SYNC_SCAN_PARALLELISM"));
        if (sync.minTimeoutSeconds() > sync.maxTimeoutSeconds()) {
            throw new ConfigException(
                    "SYNC_MIN_TIMEOUT_SECONDS",
                    sync.minTimeoutSeconds(),
                    "must not exceed SYNC_MAX_TIMEOUT_SECONDS (" + sync.maxTimeoutSeconds() + ")");
        }
        var s3 = new TrisyncConfig.S3Config(
                string(j, "S3_ENDPOINT"),
                nonBlank(j, "S3_REGION"),
                string(j, "S3_ACCESS_KEY"),
                string(j, "S3_SECRET_KEY"),
                nonBlank(j, "S3_BUCKET"),
                integer(j, "S3_MULTIPART_THRESHOLD_BYTES"));
        if (s3.multipartThresholdBytes() < MIN_MULTIPART_BYTES) {
            throw new ConfigException(
                    "S3_MULTIPART_THRESHOLD_BYTES",
                    s3.multipartThresholdBytes(),
                    "S3 parts are at least 5 MiB (5242880)");
        }
        String nodeId = string(j, "NODE_ID");
        var qdrant = new TrisyncConfig.QdrantConfig(
                string(j, "QDRANT_HOST"),
                integer(j, "QDRANT_PORT"),
                string(j, "QDRANT_API_KEY"),
                bool(j, "QDRANT_USE_TLS"),
                nonBlank(j, "QDRANT_COLLECTION"),
                integer(j, "QDRANT_VECTOR_SIZE"));
        return new TrisyncConfig(
                integer(j, "HTTP_PORT"),
                integer(j, "HTTP_INSTANCES"),
                integer(j, "HTTP_IDLE_TIMEOUT_SECONDS"),
                integer(j, "HTTP_MIN_BODY_BYTES_PER_SECOND"),
                integer(j, "HTTP_MIN_BODY_RATE_WINDOW_SECONDS"),
                Path.of(nonBlank(j, "DATA_DIR")),
                nodeId.isBlank() ? "node-" + UUID.randomUUID().toString().substring(0, 8) : nodeId,
                roles(j),
                new TrisyncConfig.MongoConfig(mongoUri(j), nonBlank(j, "MONGO_DB"), writeConcern(j)),
                s3,
                qdrant,
                embedding(j, qdrant),
                new TrisyncConfig.EmbeddedConfig(
                        bool(j, "EMBEDDED_PERSIST"),
                        integer(j, "EMBEDDED_MONGO_PORT"),
                        integer(j, "EMBEDDED_S3_PORT"),
                        integer(j, "EMBEDDED_QDRANT_PORT"),
                        bool(j, "EMBEDDED_MONGO_FSYNC")),
                new TrisyncConfig.IngestConfig(
                        integer(j, "INGEST_MAX_FILE_BYTES"),
                        integer(j, "INGEST_RECOVERY_INTERVAL_SECONDS"),
                        integer(j, "INGEST_RECOVERY_GRACE_SECONDS"),
                        integer(j, "INGEST_ANSWER_WITHIN_SECONDS")),
                sync,
                new TrisyncConfig.EventsConfig(
                        integer(j, "EVENT_QUEUE_SIZE"),
                        integer(j, "WEBSOCKET_PING_INTERVAL"),
                        integer(j, "BRIDGE_MAX_MESSAGE_BYTES"),
                        integer(j, "BRIDGE_MAX_MESSAGES_PER_SECOND"),
                        integer(j, "BRIDGE_MAX_HANDLERS")),
                new TrisyncConfig.RepairConfig(
                        bool(j, "SYNC_AUTO_REPAIR"),
                        integer(j, "SYNC_QUARANTINE_RETENTION_DAYS"),
                        string(j, "SYNC_BACKUP_PREFIX")),
                new TrisyncConfig.AuthConfig(
                        bool(j, "AUTH_ENABLED"),
                        string(j, "AUTH_JWT_SECRET"),
                        string(j, "AUTH_JWKS_FILE"),
                        integer(j, "API_RATE_LIMIT_PER_MINUTE"),
                        Arrays.stream(string(j, "CORS_ALLOWED_ORIGINS").split(","))
                                .map(String::trim)
                                .filter(o -> !o.isEmpty())
                                .toList(),
                        integer(j, "AUTH_MAX_TOKEN_LIFETIME_SECONDS")),
                new TrisyncConfig.MetricsConfig(integer(j, "METRICS_STORE_REFRESH_SECONDS")),
                new TrisyncConfig.SearchConfig(integer(j, "SEARCH_BLOB_RECHECK_SECONDS")),
                new TrisyncConfig.RetentionConfig(
                        integer(j, "RETENTION_INGEST_OPERATIONS_DAYS"),
                        integer(j, "RETENTION_SYNC_OPERATIONS_DAYS"),
                        integer(j, "RETENTION_EVENTS_DAYS"),
                        integer(j, "RETENTION_TOMBSTONES_DAYS"),
                        integer(j, "RETENTION_SWEEP_INTERVAL_SECONDS")),
                nonBlank(j, "CLUSTER_HOST"),
                nonBlank(j, "CLUSTER_NAME"));
    }

    /**
     * {@code EMBEDDING_*}: a known provider; for {@code openai} an http(s) URL and a model name; the
     * dimension the collection holds ({@code QDRANT_VECTOR_SIZE}), and 384 for the local model.
     */
    private static TrisyncConfig.EmbeddingConfig embedding(JsonObject j, TrisyncConfig.QdrantConfig qdrant) {
        var e = new TrisyncConfig.EmbeddingConfig(
                string(j, "EMBEDDING_PROVIDER"),
                string(j, "EMBEDDING_URL"),
                string(j, "EMBEDDING_MODEL"),
                string(j, "EMBEDDING_API_KEY"),
                integer(j, "EMBEDDING_DIMENSIONS"),
                integer(j, "EMBEDDING_BATCH_SIZE"),
                integer(j, "EMBEDDING_TIMEOUT_SECONDS"),
                integer(j, "EMBEDDING_MAX_CONCURRENCY"),
                integer(j, "REINDEX_TARGET_BATCH_MS"),
                string(j, "EMBEDDING_MODEL_CHANGE"));
        if (!e.modelChange().equals(TrisyncConfig.EmbeddingConfig.SIDE_BY_SIDE)
                && !e.modelChange().equals(TrisyncConfig.EmbeddingConfig.IN_PLACE)) {
            throw new ConfigException("EMBEDDING_MODEL_CHANGE", e.modelChange(), "expected side_by_side or in_place");
        }
        switch (e.provider()) {
            case TrisyncConfig.EmbeddingConfig.LOCAL -> {
                if (e.dimensions() != LOCAL_DIMENSION) {
                    throw new ConfigException(
                            "EMBEDDING_DIMENSIONS",
                            e.dimensions(),
                            "the local model makes vectors of " + LOCAL_DIMENSION + " dimensions");
                }
            }
            case TrisyncConfig.EmbeddingConfig.OPENAI -> {
                java.net.URI uri;
                try {
                    uri = new java.net.URI(e.url());
                } catch (java.net.URISyntaxException bad) {
                    throw new ConfigException("EMBEDDING_URL", e.url(), "expected an http:// or https:// URL");
                }
                if (uri.getScheme() == null
                        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                        || uri.getHost() == null) {
                    throw new ConfigException("EMBEDDING_URL", e.url(), "expected an http:// or https:// URL");
                }
                if (e.model().isBlank()) {
                    throw new ConfigException("EMBEDDING_MODEL", e.model(), "must name the provider's model");
                }
            }
            default -> throw new ConfigException("EMBEDDING_PROVIDER", e.provider(), "expected local or openai");
        }
        if (e.dimensions() != qdrant.vectorSize()) {
            throw new ConfigException(
                    "EMBEDDING_DIMENSIONS",
                    e.dimensions(),
                    "must equal QDRANT_VECTOR_SIZE (" + qdrant.vectorSize()
                            + "): the collection holds vectors of one dimension");
        }
        return e;
    }

    /**
     * {@code MONGO_URI}: blank (embedded) or a connection string the driver accepts. Checked here so a
     * malformed one stops the node with the key named, not with the driver's message alone after the
     * embedded stores started; the value itself is not echoed, as it may hold a password.
     */
    private static String mongoUri(JsonObject j) {
        String uri = string(j, "MONGO_URI");
        if (!uri.isEmpty()) {
            try {
                new com.mongodb.ConnectionString(uri);
            } catch (IllegalArgumentException e) {
                throw ConfigException.unprintable("MONGO_URI", e.getMessage());
            }
        }
        return uri;
    }

    /** {@code NODE_ROLES}: a non-empty comma-separated subset of {@link TrisyncConfig#ROLES}. */
    private static Set<String> roles(JsonObject j) {
        String raw = string(j, "NODE_ROLES");
        Set<String> roles = new LinkedHashSet<>();
        for (String role : raw.split(",")) {
            String r = role.strip();
            if (r.isEmpty()) {
                continue;
            }
            if (!TrisyncConfig.ROLES.contains(r)) {
                throw new ConfigException(
                        "NODE_ROLES", raw, "unknown role " + r + "; roles are " + TrisyncConfig.ROLES);
            }
            roles.add(r);
        }
        if (roles.isEmpty()) {
            throw new ConfigException("NODE_ROLES", raw, "name at least one of " + TrisyncConfig.ROLES);
        }
        return Set.copyOf(roles);
    }

    /** {@code MONGO_WRITE_CONCERN}: {@code majority} or a positive number of members. */
    private static String writeConcern(JsonObject j) {
        String w = nonBlank(j, "MONGO_WRITE_CONCERN").trim();
        if (!w.equals("majority") && !w.matches("[1-9][0-9]{0,2}")) {
            throw new ConfigException("MONGO_WRITE_CONCERN", w, "expected majority or a number of members (1-999)");
        }
        return w;
    }

    private static ConfigKey key(String env) {
        return ConfigKeys.ALL.stream()
                .filter(k -> k.env().equals(env))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no config key " + env));
    }

    private static int integer(JsonObject json, String env) {
        return ((Number) get(json, key(env))).intValue();
    }

    private static boolean bool(JsonObject json, String env) {
        return (Boolean) get(json, key(env));
    }

    private static String string(JsonObject json, String env) {
        return ((String) get(json, key(env))).trim();
    }

    private static String nonBlank(JsonObject json, String env) {
        String value = string(json, env);
        if (value.isBlank()) {
            throw new ConfigException(env, value, "must not be blank");
        }
        return value;
    }

    private static Object get(JsonObject json, ConfigKey key) {
        List<String> path = key.pathSegments();
        JsonObject node = json;
        for (String segment : path.subList(0, path.size() - 1)) {
            node = node.getJsonObject(segment);
            if (node == null) {
                return null;
            }
        }
        return node.getValue(path.get(path.size() - 1));
    }

    private static void put(JsonObject json, ConfigKey key, Object value) {
        List<String> path = key.pathSegments();
        JsonObject node = json;
        for (String segment : path.subList(0, path.size() - 1)) {
            if (!(node.getValue(segment) instanceof JsonObject)) {
                node.put(segment, new JsonObject());
            }
            node = node.getJsonObject(segment);
        }
        node.put(path.get(path.size() - 1), value);
    }
}
