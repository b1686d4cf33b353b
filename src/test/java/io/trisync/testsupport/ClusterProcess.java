package io.trisync.testsupport;

import io.trisync.config.TrisyncConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One node of a three-node cluster on this machine, started the way a user starts it: {@code
 * bin/cluster-node N} (node 1 with the embedded stores, the others pointing at them) in its own
 * process, on ports and folders of the test's own. {@link #kill()} ends it with SIGKILL; it can be
 * started again on the same data. Its output goes to a log file, one per start.
 */
public final class ClusterProcess implements AutoCloseable {

    /** The ports every node of one test cluster shares: node 1's embedded stores. */
    public record StorePorts(int mongo, int s3, int qdrant) {
        public static StorePorts free() {
            return new StorePorts(ChildJvm.freePort(), ChildJvm.freePort(), ChildJvm.freePort());
        }
    }

    private final int number;
    private final Path clusterDir;
    private final StorePorts stores;
    private final int httpPort = ChildJvm.freePort();
    private final Map<String, String> env;
    private Process process;
    private int starts;

    /** Whether the node last launched serves HTTP (its readiness is then its health). */
    private boolean http;

    /** Node {@code number} of the cluster kept under {@code clusterDir}; {@code env}: settings of every start. */
    public ClusterProcess(int number, Path clusterDir, StorePorts stores, Map<String, String> env) {
        this.number = number;
        this.clusterDir = clusterDir;
        this.stores = stores;
        this.env = env;
    }

    /** Starts the node with {@code extraEnv} added for this start, and waits until it is up. */
    public void start(Map<String, String> extraEnv, int timeoutSeconds) {
        launch(extraEnv);
        awaitUp(timeoutSeconds);
    }

    /**
     * Starts the node with {@code extraEnv} added for this start, without waiting: several nodes
     * launched before any is awaited start side by side.
     */
    public void launch(Map<String, String> extraEnv) {
        Map<String, String> all = new HashMap<>(env);
        all.putAll(extraEnv);
        all.put("CLUSTER_DIR", clusterDir.toString());
        all.put("HTTP_PORT", String.valueOf(httpPort));
        all.put("EMBEDDED_MONGO_PORT", String.valueOf(stores.mongo()));
        all.put("EMBEDDED_S3_PORT", String.valueOf(stores.s3()));
        all.put("EMBEDDED_QDRANT_PORT", String.valueOf(stores.qdrant()));
        all.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        all.putIfAbsent("JAVA_OPTS", NodeArchive.clusterNodeOptions());
        all.putIfAbsent("HTTP_INSTANCES", "1");
        all.putIfAbsent("EMBEDDING_MODEL_CHANGE", TestStack.IN_PLACE);
        ProcessBuilder builder = new ProcessBuilder(List.of("bin/cluster-node", String.valueOf(number)))
                .directory(Path.of("").toAbsolutePath().toFile())
                .redirectErrorStream(true);
        builder.environment().putAll(all);
        try {
            Files.createDirectories(clusterDir);
            builder.redirectOutput(log(++starts).toFile());
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        http = !all.containsKey("NODE_ROLES") || all.get("NODE_ROLES").contains("http");
    }

    /** Waits until the node last launched is up (healthy, or started when it serves no HTTP). */
    public void awaitUp(int timeoutSeconds) {
        Await.until("node " + number + " to start (see " + log() + ")", timeoutSeconds * 1000L, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "node " + number + " exited with " + process.exitValue() + "; see " + log());
            }
            return http ? healthy() : started();
        });
    }

    /** Ends the node with SIGKILL (no shutdown hook runs) and waits until the process is gone. */
    public void kill() {
        ChildJvm.kill(process, "node " + number);
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** The node's id ({@code node<N>}, set by the script). */
    public String id() {
        return "node" + number;
    }

    public int httpPort() {
        return httpPort;
    }

    public String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** Whether anything accepts connections on the node's HTTP port. */
    public boolean listens() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", httpPort), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Path log() {
        return log(starts);
    }

    private Path log(int start) {
        return clusterDir.resolve("node" + number + "-" + start + ".log");
    }

    /** A configuration pointing at node 1's embedded stores, to read them back with the real clients. */
    public static TrisyncConfig storesConfig(StorePorts stores) {
        return TestStack.config(Map.of(
                "MONGO_URI",
                "mongodb://127.0.0.1:" + stores.mongo(),
                "S3_ENDPOINT",
                "http://127.0.0.1:" + stores.s3(),
                "QDRANT_HOST",
                "127.0.0.1",
                "QDRANT_PORT",
                String.valueOf(stores.qdrant())));
    }

    @Override
    public void close() {
        if (alive()) {
            kill();
        }
    }

    /** A node without HTTP says in its log that it started. */
    private boolean started() {
        try {
            return Files.exists(log()) && Files.readString(log()).contains("Node " + id() + " started");
        } catch (IOException e) {
            return false;
        }
    }

    private boolean healthy() {
        return ChildJvm.healthy(httpPort);
    }
}
