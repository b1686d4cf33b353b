package io.trisync.testsupport;

import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedMongo;
import io.trisync.embedded.EmbeddedS3;
import io.trisync.embedded.qdrant.EmbeddedQdrant;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Embedded MongoDB, S3 and Qdrant that a fault test can stop and start again, each on a fixed port
 * and persisting in its own folder, so a restarted store holds what it held before it went down.
 */
public final class RestartableStores implements AutoCloseable {

    private static final String ACCESS = "fault-access";
    private static final String SECRET = "fault-secret-key";

    private final Path dir = TestStack.tempDir("trisync-faults");
    private final int mongoPort = ChildJvm.freePort();
    private final int s3Port = ChildJvm.freePort();
    private final int qdrantPort = ChildJvm.freePort();
    private EmbeddedMongo mongo;
    private EmbeddedS3 s3;
    private EmbeddedQdrant qdrant;

    private static RestartableStores shared;

    /** Set when the node reaches the stores through TCP proxies ({@link #proxied}). */
    private Map<String, TcpProxy> proxies = Map.of();

    public RestartableStores() throws Exception {
        startMongo();
        startS3();
        startQdrant();
    }

    /**
     * Stores started once per JVM and closed when it exits, for the fault-test classes that take turns
     * with them (each test starts again, after it, whatever it stopped: {@link #startStopped}).
     */
    public static synchronized RestartableStores shared() {
        if (shared == null) {
            RestartableStores stores;
            try {
                stores = new RestartableStores();
            } catch (Exception e) {
                throw new IllegalStateException("the fault tests' stores did not start", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    stores.close();
                } catch (Exception e) {
                    // The JVM is exiting: what did not close in time ends with it.
                }
            }));
            shared = stores;
        }
        return shared;
    }

    /** These stores with a {@link TcpProxy} in front of each: a node configured here goes through them. */
    public static RestartableStores proxied() throws Exception {
        RestartableStores stores = new RestartableStores();
        stores.proxies = Map.of(
                "mongodb", TcpProxy.start(stores.mongoPort),
                "s3", TcpProxy.start(stores.s3Port),
                "qdrant", TcpProxy.start(stores.qdrantPort));
        return stores;
    }

    /** The proxy in front of {@code store} ({@code mongodb}, {@code s3}, {@code qdrant}). */
    public TcpProxy proxy(String store) {
        return proxies.get(store);
    }

    private int port(String store, int direct) {
        TcpProxy proxy = proxies.get(store);
        return proxy == null ? direct : proxy.port();
    }

    /** A node configuration using these stores, then {@code overrides}. */
    public TrisyncConfig nodeConfig(Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>(Map.of(
                "MONGO_URI",
                "mongodb://127.0.0.1:" + port("mongodb", mongoPort),
                "S3_ENDPOINT",
                "http://127.0.0.1:" + port("s3", s3Port),
                "S3_ACCESS_KEY",
                ACCESS,
                "S3_SECRET_KEY",
                SECRET,
                "QDRANT_HOST",
                "127.0.0.1",
                "QDRANT_PORT",
                String.valueOf(port("qdrant", qdrantPort))));
        env.putAll(overrides);
        return TestStack.config(env);
    }

    public void startMongo() throws Exception {
        mongo = EmbeddedMongo.start(mongoPort, dir.resolve("mongo"));
    }

    public void stopMongo() {
        mongo.close();
        mongo = null;
    }

    public void startS3() throws Exception {
        s3 = EmbeddedS3.start(s3Port, dir.resolve("s3"), ACCESS, SECRET);
    }

    public void stopS3() throws Exception {
        s3.close();
        s3 = null;
    }

    public void startQdrant() throws Exception {
        qdrant = EmbeddedQdrant.start(qdrantPort, dir.resolve("qdrant"), "");
    }

    public void stopQdrant() {
        qdrant.close();
        qdrant = null;
    }

    /** Starts again any store a test stopped (and left stopped by failing), so the next test finds all three. */
    public void startStopped() throws Exception {
        if (mongo == null) {
            startMongo();
        }
        if (s3 == null) {
            startS3();
        }
        if (qdrant == null) {
            startQdrant();
        }
    }

    @Override
    public void close() throws Exception {
        for (TcpProxy proxy : proxies.values()) {
            proxy.close();
        }
        if (qdrant != null) {
            stopQdrant();
        }
        if (s3 != null) {
            stopS3();
        }
        if (mongo != null) {
            stopMongo();
        }
    }
}
