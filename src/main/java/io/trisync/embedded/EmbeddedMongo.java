package io.trisync.embedded;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MongoDB-wire server ({@code mongo-java-server}) on 127.0.0.1: H2 MVStore backend in
 * {@code dataDir/mongo/trisync.mv} when persisting, memory backend otherwise. It has no sessions, so
 * trisync never relies on multi-document transactions. A persisting server answers a write only once
 * it is in the file ({@link DurableH2Backend}), so a kill -9 of this process loses nothing it
 * acknowledged; with {@code fsync} a machine's power loss does not either.
 */
public final class EmbeddedMongo implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedMongo.class);

    private final MongoServer server;
    private final int port;

    private EmbeddedMongo(MongoServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /** Starts on 127.0.0.1:{@code port} (0 picks a free port) without fsync; {@code dataDir} null keeps data in memory. */
    public static EmbeddedMongo start(int port, Path dataDir) throws IOException {
        return start(port, dataDir, false);
    }

    /**
     * Starts on 127.0.0.1:{@code port} (0 picks a free port); {@code dataDir} null keeps data in
     * memory; {@code fsync} forces every commit to the device.
     */
    public static EmbeddedMongo start(int port, Path dataDir, boolean fsync) throws IOException {
        MongoBackend backend;
        if (dataDir == null) {
            // -Dtrisync.mongoSecondaryIndexes=false: the stock backend (benchmarks compare the two).
            backend = Boolean.parseBoolean(System.getProperty("trisync.mongoSecondaryIndexes", "true"))
                    ? new IndexedMemoryBackend()
                    : new MemoryBackend();
        } else {
            Files.createDirectories(dataDir);
            backend = DurableH2Backend.open(dataDir.resolve("trisync.mv").toString(), fsync);
        }
        MongoServer server = new MongoServer(backend);
        server.bind(
                new java.net.InetSocketAddress("127.0.0.1", port), 1, Integer.getInteger("trisync.mongoWorkers", 0));
        int bound = server.getLocalAddress().getPort();
        LOG.info(
                "Embedded MongoDB-wire server listening on 127.0.0.1:{} ({})",
                bound,
                dataDir == null
                        ? "in memory"
                        : "persisting under " + dataDir + (fsync ? ", fsync on commit" : ", journaled before reply"));
        return new EmbeddedMongo(server, bound);
    }

    public int port() {
        return port;
    }

    /** A connection string for this server. */
    public String connectionString() {
        return "mongodb://127.0.0.1:" + port;
    }

    /** Stops listening, closes cursors and the backend (which commits the H2 store). */
    @Override
    public void close() {
        server.shutdown();
    }

    /** The in-memory backend with its non-unique indexes kept ({@link SecondaryIndex}) instead of ignored. */
    private static final class IndexedMemoryBackend extends MemoryBackend {
        @Override
        public de.bwaldvogel.mongo.backend.memory.MemoryDatabase openOrCreateDatabase(String databaseName) {
            return new de.bwaldvogel.mongo.backend.memory.MemoryDatabase(databaseName, getCursorRegistry()) {
                @Override
                protected de.bwaldvogel.mongo.backend.Index<Integer> openOrCreateSecondaryIndex(
                        String collectionName,
                        String indexName,
                        List<de.bwaldvogel.mongo.backend.IndexKey> keys,
                        boolean sparse) {
                    return new SecondaryIndex<>(indexName, keys, sparse);
                }
            };
        }
    }
}
