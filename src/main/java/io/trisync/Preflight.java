package io.trisync;

import io.trisync.config.ConfigException;
import io.trisync.config.TrisyncConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a node checks before it starts anything: that {@code DATA_DIR} is a writable directory (or can
 * be made one) and that the ports it will listen on are free. Found later, these mistakes surfaced as
 * {@code Node did not start: Address already in use} after every other verticle was deployed, or as
 * a bare path; here each stops the node with one line naming the key and the value.
 */
final class Preflight {

    private Preflight() {}

    /** Throws {@link ConfigException} for the first of {@code config}'s values this machine cannot use. */
    static void check(TrisyncConfig config) {
        dataDir(config.dataDir());
        if (config.runs("http") && config.httpPort() != 0) {
            port("HTTP_PORT", "0.0.0.0", config.httpPort());
        }
        TrisyncConfig.EmbeddedConfig embedded = config.embedded();
        if (config.mongo().embedded()) {
            port("EMBEDDED_MONGO_PORT", "127.0.0.1", embedded.mongoPort());
        }
        if (config.s3().embedded()) {
            port("EMBEDDED_S3_PORT", "127.0.0.1", embedded.s3Port());
        }
        if (config.qdrant().embedded()) {
            port("EMBEDDED_QDRANT_PORT", "127.0.0.1", embedded.qdrantPort());
        }
    }

    /**
     * {@code DATA_DIR}, or the nearest of its parents that exists, is a directory this process may
     * write to. Uploads, the generated token secret and the embedded stores all live under it.
     */
    static void dataDir(Path configured) {
        Path dir = configured.toAbsolutePath().normalize();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        String where = existing.equals(dir) ? "" : " (" + existing + ")";
        if (!Files.isDirectory(existing)) {
            throw ConfigException.unusable("DATA_DIR", configured, "is not a directory" + where);
        }
        if (!Files.isWritable(existing)) {
            throw ConfigException.unusable("DATA_DIR", configured, "is not writable" + where);
        }
    }

    /** {@code port} (0: any, not checked) can be bound on {@code host} now. */
    static void port(String key, String host, int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().contains("in use")
                    ? inUse(key, port)
                    : ConfigException.unusable(key, port, "cannot be listened on: " + e.getMessage());
        }
    }

    /** The one line for a port another process holds. */
    static ConfigException inUse(String key, int port) {
        return ConfigException.unusable(key, port, "is in use by another process");
    }
}
