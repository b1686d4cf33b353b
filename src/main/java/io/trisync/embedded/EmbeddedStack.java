package io.trisync.embedded;

import io.trisync.config.ConfigException;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.qdrant.EmbeddedQdrant;
import java.net.BindException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, in-process and on loopback, each store the configuration leaves without an address, and
 * returns the configuration rewritten to point at them. Closing stops them in reverse order.
 */
public final class EmbeddedStack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private TrisyncConfig effective;

    private EmbeddedStack() {}

    /** Starts what {@code config} needs; with nothing embedded it starts nothing. */
    public static EmbeddedStack start(TrisyncConfig config) throws Exception {
        EmbeddedStack stack = new EmbeddedStack();
        try {
            stack.effective = stack.startAll(config);
        } catch (Exception e) {
            stack.close();
            throw e;
        }
        return stack;
    }

    /** The configuration with every embedded store's real address filled in. */
    public TrisyncConfig config() {
        return effective;
    }

    private TrisyncConfig startAll(TrisyncConfig c) throws Exception {
        TrisyncConfig.EmbeddedConfig e = c.embedded();
        // Normalized: the default "./data" made "/cwd/./data/s3", under which s3proxy refused every
        // bucket as a path traversal, so the README's first command could not start a node.
        Path data = e.persist() ? c.dataDir().toAbsolutePath().normalize() : null;
        TrisyncConfig.MongoConfig mongo = c.mongo();
        TrisyncConfig.S3Config s3 = c.s3();
        TrisyncConfig.QdrantConfig qdrant = c.qdrant();
        if (mongo.embedded()) {
            EmbeddedMongo server = push(explained(
                    "EMBEDDED_MONGO_PORT",
                    e.mongoPort(),
                    data,
                    () -> EmbeddedMongo.start(e.mongoPort(), sub(data, "mongo"), e.mongoFsync())));
            mongo = new TrisyncConfig.MongoConfig(server.connectionString(), mongo.db(), mongo.writeConcern());
        }
        if (s3.embedded()) {
            TrisyncConfig.S3Config given = s3;
            EmbeddedS3 server = push(explained(
                    "EMBEDDED_S3_PORT",
                    e.s3Port(),
                    data,
                    () -> EmbeddedS3.start(e.s3Port(), sub(data, "s3"), given.accessKey(), given.secretKey())));
            s3 = new TrisyncConfig.S3Config(
                    server.endpoint(),
                    s3.region(),
                    s3.accessKey(),
                    s3.secretKey(),
                    s3.bucket(),
                    s3.multipartThresholdBytes());
        }
        if (qdrant.embedded()) {
            String apiKey = qdrant.apiKey();
            EmbeddedQdrant server = push(explained(
                    "EMBEDDED_QDRANT_PORT",
                    e.qdrantPort(),
                    data,
                    () -> EmbeddedQdrant.start(e.qdrantPort(), sub(data, "qdrant"), apiKey)));
            qdrant = new TrisyncConfig.QdrantConfig(
                    "127.0.0.1", server.port(), qdrant.apiKey(), false, qdrant.collection(), qdrant.vectorSize());
        }
        if (!started.isEmpty()) {
            LOG.info(
                    "Embedded stores: mongodb={} s3={} qdrant={} ({})",
                    c.mongo().embedded() ? mongo.uri() : "external",
                    c.s3().embedded() ? s3.endpoint() : "external",
                    c.qdrant().embedded() ? "127.0.0.1:" + qdrant.port() : "external",
                    data == null ? "in memory" : "persisting under " + data);
        }
        return new TrisyncConfig(
                c.httpPort(),
                c.httpInstances(),
                c.httpIdleTimeoutSeconds(),
                c.httpMinBodyBytesPerSecond(),
                c.httpMinBodyRateWindowSeconds(),
                c.dataDir(),
                c.nodeId(),
                c.nodeRoles(),
                mongo,
                s3,
                qdrant,
                c.embedding(),
                e,
                c.ingest(),
                c.sync(),
                c.events(),
                c.repair(),
                c.auth(),
                c.metrics(),
                c.search(),
                c.retention(),
                c.clusterHost(),
                c.clusterName());
    }

    /**
     * Starts one server, turning the two failures a user causes into one line naming the key: its
     * port held by another process, and {@code DATA_DIR} held by another node (H2 locks the embedded
     * MongoDB's file, so a second node on the same directory failed with {@code The file is locked:
     * …/trisync.mv [2.3.232/7]}). Anything else is thrown as it came.
     */
    private static <T> T explained(String portKey, int port, Path data, Callable<T> start) throws Exception {
        try {
            return start.call();
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw ConfigException.unusable(portKey, port, "is in use by another process");
                }
                if (t instanceof MVStoreException m && m.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
                    throw ConfigException.unusable(
                            "DATA_DIR",
                            data,
                            "is in use by another trisync node (its embedded MongoDB file is locked)");
                }
            }
            throw e;
        }
    }

    private <T extends AutoCloseable> T push(T server) {
        started.push(server);
        return server;
    }

    private static Path sub(Path data, String name) {
        return data == null ? null : data.resolve(name);
    }

    /** Stops every started server, last started first; failures are logged, not thrown. */
    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable server = started.pop();
            try {
                server.close();
            } catch (Exception ex) {
                LOG.warn(
                        "Embedded store {} did not stop cleanly",
                        server.getClass().getSimpleName(),
                        ex);
            }
        }
    }
}
