package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.qdrant.client.grpc.Collections.CreateCollection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The collections of the embedded server, persisted one folder each under {@code dataDir} when it is set. */
final class CollectionRegistry implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CollectionRegistry.class);
    private static final Pattern VALID_NAME = Pattern.compile("[^/\\\\:*?\"<>|\\x00]{1,255}");

    private final Map<String, QdrantCollection> collections = new ConcurrentHashMap<>();
    private final Path dataDir;

    /** {@code dataDir} null keeps every collection in memory. */
    CollectionRegistry(Path dataDir) throws IOException {
        this.dataDir = dataDir;
        if (dataDir != null) {
            Files.createDirectories(dataDir);
            try (var dirs = Files.list(dataDir)) {
                for (Path dir : dirs.filter(d -> Files.exists(d.resolve("collection.pb")))
                        .toList()) {
                    QdrantCollection c = QdrantCollection.load(dir);
                    collections.put(c.name(), c);
                    LOG.info("Embedded Qdrant loaded collection {} ({} points)", c.name(), c.size());
                }
            }
        }
    }

    synchronized void create(CreateCollection request) {
        String name = request.getCollectionName();
        if (!VALID_NAME.matcher(name).matches()) {
            throw Status.INVALID_ARGUMENT
                    .withDescription(
                            "Wrong input: collection name must be 1 to 255 characters without / \\ : * ? \" < > |")
                    .asRuntimeException();
        }
        if (collections.containsKey(name)) {
            throw Status.ALREADY_EXISTS
                    .withDescription("Wrong input: Collection `" + name + "` already exists!")
                    .asRuntimeException();
        }
        collections.put(name, QdrantCollection.create(request, dataDir == null ? null : dataDir.resolve(folder(name))));
    }

    synchronized boolean delete(String name) {
        QdrantCollection removed = collections.remove(name);
        if (removed != null) {
            removed.destroy();
        }
        return removed != null;
    }

    boolean exists(String name) {
        return collections.containsKey(name);
    }

    List<String> names() {
        return collections.keySet().stream().sorted().toList();
    }

    /** The collection, or NOT_FOUND as Qdrant reports it. */
    QdrantCollection get(String name) {
        QdrantCollection c = collections.get(name);
        if (c == null) {
            throw Status.NOT_FOUND
                    .withDescription("Not found: Collection `" + name + "` doesn't exist!")
                    .asRuntimeException();
        }
        return c;
    }

    @Override
    public void close() {
        collections.values().forEach(QdrantCollection::close);
    }

    /** A folder name that is safe on any file system: hex of the UTF-8 name. */
    private static String folder(String name) {
        StringBuilder sb = new StringBuilder("c-");
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
