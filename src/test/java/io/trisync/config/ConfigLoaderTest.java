package io.trisync.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.testsupport.TestStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {

    @Test
    @DisplayName("The defaults of conf/config.json give an embedded, persistent node on port 8080")
    void defaultsDescribeTheEmbeddedRun() {
        TrisyncConfig c = ConfigLoader.fromJson(TestStack.defaults(), Map.of());
        assertThat(c.httpPort()).isEqualTo(8080);
        assertThat(c.needsEmbeddedStack()).isTrue();
        assertThat(c.mongo().embedded()).isTrue();
        assertThat(c.s3().embedded()).isTrue();
        assertThat(c.qdrant().embedded()).isTrue();
        assertThat(c.embedded().persist()).isTrue();
        assertThat(c.embedded().mongoPort()).isEqualTo(27017);
        assertThat(c.embedded().s3Port()).isEqualTo(9000);
        assertThat(c.embedded().qdrantPort()).isEqualTo(6334);
        assertThat(c.sync().baseTimeoutSeconds()).isEqualTo(300);
        assertThat(c.sync().perFileTimeoutSeconds()).isEqualTo(10);
        assertThat(c.sync().minTimeoutSeconds()).isEqualTo(300);
        assertThat(c.sync().maxTimeoutSeconds()).isEqualTo(7200);
        assertThat(c.sync().heartbeatIntervalSeconds()).isEqualTo(30);
        assertThat(c.sync().cleanupIntervalSeconds()).isEqualTo(300);
        assertThat(c.sync().checkIntervalMinutes()).isEqualTo(30);
        assertThat(c.nodeId()).startsWith("node-");
    }

    @Test
    @DisplayName("Environment variables override every kind of key")
    void environmentOverridesDefaults() {
        TrisyncConfig c = ConfigLoader.fromJson(
                TestStack.defaults(),
                Map.of(
                        "HTTP_PORT", "9191",
                        "MONGO_URI", "mongodb://db.example:27017",
                        "S3_ENDPOINT", "http://minio:9000",
                        "QDRANT_HOST", "qdrant",
                        "QDRANT_USE_TLS", "true",
                        "EMBEDDED_PERSIST", "false",
                        "SYNC_HEARTBEAT_INTERVAL_SECONDS", "1",
                        "SYNC_CHECK_INTERVAL", "5",
                        "NODE_ID", "n1"));
        assertThat(c.httpPort()).isEqualTo(9191);
        assertThat(c.mongo().uri()).isEqualTo("mongodb://db.example:27017");
        assertThat(c.mongo().embedded()).isFalse();
        assertThat(c.s3().embedded()).isFalse();
        assertThat(c.qdrant().embedded()).isFalse();
        assertThat(c.qdrant().useTls()).isTrue();
        assertThat(c.needsEmbeddedStack()).isFalse();
        assertThat(c.embedded().persist()).isFalse();
        assertThat(c.sync().heartbeatIntervalSeconds()).isEqualTo(1);
        assertThat(c.sync().checkIntervalMinutes()).isEqualTo(5);
        assertThat(c.nodeId()).isEqualTo("n1");
    }

    @ParameterizedTest(name = "{0}={1} is refused")
    @CsvSource({
        "HTTP_PORT, abc",
        "HTTP_PORT, 70000",
        "EMBEDDED_S3_PORT, -1",
        "SYNC_HEARTBEAT_INTERVAL_SECONDS, -5",
        "SYNC_HEARTBEAT_INTERVAL_SECONDS, 0",
        "SYNC_BATCH_SIZE, 1.5",
        "EVENT_QUEUE_SIZE, many",
        "EMBEDDED_PERSIST, yes",
        "S3_BUCKET, ' '",
        "S3_MULTIPART_THRESHOLD_BYTES, 1024",
        "NODE_ROLES, 'http,gateway'",
        "NODE_ROLES, ' , '",
        "HTTP_IDLE_TIMEOUT_SECONDS, 0"
    })
    @DisplayName("A bad value names its key and its value")
    void badValueNamesTheKey(String key, String value) {
        assertThatThrownBy(() -> ConfigLoader.fromJson(TestStack.defaults(), Map.of(key, value)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(key)
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
    }

    @Test
    @DisplayName("NODE_ROLES: every role by default, a subset when named")
    void roles() {
        assertThat(ConfigLoader.fromJson(TestStack.defaults(), Map.of()).nodeRoles())
                .containsExactlyInAnyOrderElementsOf(TrisyncConfig.ROLES);
        TrisyncConfig worker = ConfigLoader.fromJson(TestStack.defaults(), Map.of("NODE_ROLES", " scan, ingest "));
        assertThat(worker.nodeRoles()).containsExactlyInAnyOrder("scan", "ingest");
        assertThat(worker.runs("http")).isFalse();
    }

    @Test
    @DisplayName(
            "EMBEDDING_*: an OpenAI-compatible provider is read; a bad provider, URL, model or dimension is refused naming the key")
    void embeddingProvider() {
        Map<String, String> openai = Map.of(
                "EMBEDDING_PROVIDER", "openai",
                "EMBEDDING_URL", "http://tei:8080/v1",
                "EMBEDDING_MODEL", "BAAI/bge-small-en-v1.5",
                "EMBEDDING_API_KEY", "sk-test");
        TrisyncConfig c = ConfigLoader.fromJson(TestStack.defaults(), openai);
        assertThat(c.embedding().local()).isFalse();
        assertThat(c.embedding().url()).isEqualTo("http://tei:8080/v1");
        assertThat(c.embedding().batchSize()).isEqualTo(32);
        assertThat(ConfigLoader.fromJson(TestStack.defaults(), Map.of())
                        .embedding()
                        .local())
                .isTrue();
        assertRefused(Map.of("EMBEDDING_PROVIDER", "cohere"), "EMBEDDING_PROVIDER");
        assertRefused(with(openai, "EMBEDDING_URL", "tei:8080/v1"), "EMBEDDING_URL");
        assertRefused(with(openai, "EMBEDDING_URL", ""), "EMBEDDING_URL");
        assertRefused(with(openai, "EMBEDDING_MODEL", " "), "EMBEDDING_MODEL");
        assertRefused(with(openai, "EMBEDDING_DIMENSIONS", "0"), "EMBEDDING_DIMENSIONS");
        assertRefused(with(openai, "EMBEDDING_DIMENSIONS", "many"), "EMBEDDING_DIMENSIONS");
        assertRefused(with(openai, "EMBEDDING_DIMENSIONS", "768"), "QDRANT_VECTOR_SIZE");
        assertRefused(Map.of("EMBEDDING_DIMENSIONS", "768", "QDRANT_VECTOR_SIZE", "768"), "EMBEDDING_DIMENSIONS");
        assertRefused(with(openai, "EMBEDDING_BATCH_SIZE", "-1"), "EMBEDDING_BATCH_SIZE");
        assertThat(c.embedding().sideBySide()).as("the default change of model").isTrue();
        assertThat(ConfigLoader.fromJson(TestStack.defaults(), with(openai, "EMBEDDING_MODEL_CHANGE", "in_place"))
                        .embedding()
                        .sideBySide())
                .isFalse();
        assertRefused(with(openai, "EMBEDDING_MODEL_CHANGE", "inplace"), "EMBEDDING_MODEL_CHANGE");
    }

    private static void assertRefused(Map<String, String> env, String key) {
        assertThatThrownBy(() -> ConfigLoader.fromJson(TestStack.defaults(), env))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(key);
    }

    private static Map<String, String> with(Map<String, String> env, String key, String value) {
        Map<String, String> out = new HashMap<>(env);
        out.put(key, value);
        return out;
    }

    @Test
    @DisplayName("A minimum timeout above the maximum is refused")
    void minAboveMaxIsRefused() {
        assertThatThrownBy(() -> ConfigLoader.fromJson(
                        TestStack.defaults(),
                        Map.of("SYNC_MIN_TIMEOUT_SECONDS", "9000", "SYNC_MAX_TIMEOUT_SECONDS", "100")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("SYNC_MIN_TIMEOUT_SECONDS")
                .hasMessageContaining("SYNC_MAX_TIMEOUT_SECONDS");
    }

    @Test
    @DisplayName("A wrongly typed value in the config file is refused with its key")
    void wrongTypeInFileIsRefused() {
        var json = TestStack.defaults();
        json.getJsonObject("http").put("port", "eighty");
        assertThatThrownBy(() -> ConfigLoader.fromJson(json, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("HTTP_PORT")
                .hasMessageContaining("eighty");
    }

    @Test
    @DisplayName("Every key has a default in conf/config.json")
    void everyKeyHasADefault() {
        TrisyncConfig c = ConfigLoader.fromJson(TestStack.defaults(), Map.of());
        assertThat(c).isNotNull();
        assertThat(ConfigKeys.ALL).extracting(ConfigKey::env).doesNotHaveDuplicates();
    }

    @Test
    @DisplayName("CONFIG_FILE naming a file that does not exist is refused, not replaced by the built-in defaults")
    void missingConfigFileIsRefused(@TempDir Path dir) {
        String missing = dir.resolve("nope.json").toString();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("CONFIG_FILE", missing)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid configuration CONFIG_FILE=\"" + missing + "\": no such file");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("CONFIG_FILE", dir.toString())))
                .hasMessageContaining("CONFIG_FILE")
                .hasMessageContaining("not a regular file");
    }

    @Test
    @DisplayName("Misspelt keys in the config file are refused, each named with the known key it is closest to")
    void unknownKeysInTheFileAreRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.json");
        Files.writeString(
                file, "{\"ingest\":{\"maxFileByte\":10},\"repair\":{\"autorepair\":true},\"colour\":\"blue\"}");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("CONFIG_FILE", file.toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid configuration file " + file + ": unknown keys"
                        + " ingest.maxFileByte (did you mean ingest.maxFileBytes?),"
                        + " repair.autorepair (did you mean repair.autoRepair?), colour");
        assertThat(UnknownKeys.closest("HTTP_PORT")).isEqualTo("http.port");
        assertThat(UnknownKeys.closest("htp.port")).isEqualTo("http.port");
    }

    @Test
    @DisplayName("A partial config file is merged over the built-in defaults: it holds only the keys it changes")
    void partialFileIsMergedOverTheDefaults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"http\":{\"port\":8082},\"sync\":{\"partitions\":8}}");
        TrisyncConfig c = ConfigLoader.load(Map.of("CONFIG_FILE", file.toString(), "NODE_ID", "n1"));
        assertThat(c.httpPort()).isEqualTo(8082);
        assertThat(c.httpInstances()).isZero();
        assertThat(c.httpIdleTimeoutSeconds()).isEqualTo(30);
        assertThat(c.sync().partitions()).isEqualTo(8);
        assertThat(c.sync().batchSize()).isEqualTo(500);
        assertThat(c.embedded().s3Port()).isEqualTo(9000);
    }

    @Test
    @DisplayName("A malformed MONGO_URI is refused naming the key")
    void malformedMongoUriNamesTheKey() {
        assertThatThrownBy(() -> ConfigLoader.fromJson(TestStack.defaults(), Map.of("MONGO_URI", "garbage")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("Invalid configuration MONGO_URI: ")
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("MONGO_URI"));
    }
}
