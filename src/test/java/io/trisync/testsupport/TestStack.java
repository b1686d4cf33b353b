package io.trisync.testsupport;

import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedStack;
import io.trisync.store.MongoMetadataStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The embedded stack shared by every integration test of one JVM: started once, in memory, on free
 * ports, stopped when the JVM exits. Tests keep apart by tenant, key prefix or collection name.
 */
public final class TestStack {

    private static EmbeddedStack stack;

    /**
     * The tests' {@code EMBEDDING_MODEL_CHANGE}, unless one sets another: the shared stack's one MongoDB
     * database and Qdrant collection see nodes of many models, one test after another (the local model,
     * and each test's own on an {@link EmbeddingServer}); side by side, every start with another model
     * would begin a change of model that the others' nodes then refuse. In place, each start takes the
     * serving collection over, as before that setting existed. {@code ModelChangeIT} runs changes
     * side by side, each on a database and collection of its own.
     */
    public static final String IN_PLACE = "in_place";

    private TestStack() {}

    /** The shared stack's configuration (addresses filled in), starting it on first use. */
    public static synchronized TrisyncConfig config() {
        if (stack == null) {
            try {
                stack = EmbeddedStack.start(config(Map.of()));
            } catch (Exception e) {
                throw new IllegalStateException("embedded stack did not start", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close));
        }
        return stack.config();
    }

    /**
     * A configuration for tests: the project's defaults, in memory, every port free-picked, a fresh
     * data folder and cluster name, then {@code overrides} (environment-variable names).
     */
    public static TrisyncConfig config(Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", "false");
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", tempDir("trisync-data").toString());
        env.put("CLUSTER_NAME", "trisync-test-" + UUID.randomUUID());
        // Tests of authentication turn it on; the rest call the API without tokens.
        env.put("AUTH_ENABLED", "false");
        env.put("EMBEDDING_MODEL_CHANGE", IN_PLACE);
        env.putAll(overrides);
        return ConfigLoader.fromJson(defaults(), env);
    }

    /**
     * A node configuration using the shared stack's stores (so the node starts no embedded store),
     * on a free HTTP port, then {@code overrides}. A node given another {@code SYNC_PARTITIONS} than
     * the default and no {@code MONGO_DB} works on the database of that count ({@link
     * #databaseFor}): a database's partition count is fixed by its first node, and a node of
     * another count refuses to start on it. It works on the bucket and collection of that count too
     * ({@link #bucketFor}, {@link #collectionFor}) unless given others: an all-tenant scan or fix on
     * it would otherwise take the objects and points of the default database's files for orphans.
     */
    public static TrisyncConfig nodeConfig(Map<String, String> overrides) {
        TrisyncConfig shared = config();
        Map<String, String> env = new HashMap<>();
        env.put("MONGO_URI", shared.mongo().uri());
        env.put("S3_ENDPOINT", shared.s3().endpoint());
        env.put("QDRANT_HOST", shared.qdrant().host());
        env.put("QDRANT_PORT", String.valueOf(shared.qdrant().port()));
        env.putAll(overrides);
        String partitions = overrides.get("SYNC_PARTITIONS");
        if (partitions != null && !overrides.containsKey("MONGO_DB")) {
            env.put("MONGO_DB", databaseFor(partitions));
            env.putIfAbsent("S3_BUCKET", bucketFor(partitions));
            env.putIfAbsent("QDRANT_COLLECTION", collectionFor(partitions));
        }
        return config(env);
    }

    /**
     * The shared stack's MongoDB database for nodes of {@code partitions} partitions: its own
     * ({@code trisync}) for the default count, {@code trisync_p<N>} for another. Every node on the
     * shared stack that sets no database of its own works on the one of its count, so test classes
     * of different counts share the stores (by tenant, as the others do) but never a database.
     */
    public static String databaseFor(String partitions) {
        TrisyncConfig shared = config();
        return partitions.equals(String.valueOf(shared.sync().partitions()))
                ? shared.mongo().db()
                : shared.mongo().db() + "_p" + partitions;
    }

    /**
     * The shared stack's S3 bucket for nodes of {@code partitions} partitions: its own ({@code
     * trisync}) for the default count, {@code trisync-p<N>} for another (a bucket name takes no
     * underscore). Created by the first node on it, as any bucket that is missing.
     */
    public static String bucketFor(String partitions) {
        TrisyncConfig shared = config();
        return partitions.equals(String.valueOf(shared.sync().partitions()))
                ? shared.s3().bucket()
                : shared.s3().bucket() + "-p" + partitions;
    }

    /**
     * The shared stack's Qdrant collection for nodes of {@code partitions} partitions: its own
     * ({@code trisync_chunks}) for the default count, {@code trisync_chunks_p<N>} for another.
     */
    public static String collectionFor(String partitions) {
        TrisyncConfig shared = config();
        return partitions.equals(String.valueOf(shared.sync().partitions()))
                ? shared.qdrant().collection()
                : shared.qdrant().collection() + "_p" + partitions;
    }

    /**
     * The settings that put another node (in this JVM or a child) on {@code node}'s stores: its
     * MongoDB database, S3 bucket and Qdrant collection.
     */
    public static Map<String, String> storesOf(TrisyncConfig node) {
        return Map.of(
                "MONGO_URI", node.mongo().uri(),
                "MONGO_DB", node.mongo().db(),
                "S3_ENDPOINT", node.s3().endpoint(),
                "S3_BUCKET", node.s3().bucket(),
                "QDRANT_HOST", node.qdrant().host(),
                "QDRANT_PORT", String.valueOf(node.qdrant().port()),
                "QDRANT_COLLECTION", node.qdrant().collection());
    }

    /**
     * A second node's configuration: in {@code first}'s cluster, on {@code first}'s (embedded) stores,
     * MongoDB database, bucket and collection, then {@code overrides}.
     */
    public static TrisyncConfig joining(TrisyncConfig first, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>(storesOf(first));
        env.put("CLUSTER_NAME", first.clusterName());
        env.putAll(overrides);
        return config(env);
    }

    /** The defaults of {@code conf/config.json}. */
    public static JsonObject defaults() {
        try {
            return new JsonObject(Files.readString(Path.of("conf/config.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A MongoDB client on a database of the shared embedded server that no one else uses (named from
     * {@code prefix}): for store tests whose writes are not scoped to a tenant.
     */
    public static MongoClient ownDatabase(Vertx vertx, String prefix) {
        TrisyncConfig.MongoConfig shared = config().mongo();
        return MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(new TrisyncConfig.MongoConfig(
                        shared.uri(), unique(prefix).replace('-', '_'), "majority")));
    }

    /** A name no other test uses, for tenants, prefixes and collections. */
    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
