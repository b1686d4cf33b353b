package io.trisync.testsupport;

import io.trisync.config.TrisyncConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A trisync node in a child JVM ({@code io.trisync.Main} on the test class path) on the embedded
 * default with persistent stores under one data folder and fixed ports, so that it can be killed
 * with SIGKILL ({@link #kill()}), or stopped with SIGTERM ({@link #terminate}), and started again on
 * the same data. Its output goes to a log file
 * in the data folder, one per start.
 *
 * <p>Unless the test names an embedding provider, the node embeds with an OpenAI-compatible server on
 * loopback shared by the test JVM ({@link EmbeddingServer}): what these tests examine is what a kill
 * leaves in the stores, and loading and running the local model in every child took much of their
 * time on two cores.
 */
public final class ChildNode implements AutoCloseable {

    private final Path dataDir;
    private final int httpPort = ChildJvm.freePort();
    private final int mongoPort = ChildJvm.freePort();
    private final int s3Port = ChildJvm.freePort();
    private final int qdrantPort = ChildJvm.freePort();
    private final Map<String, String> extraEnv;
    private Process process;
    private int starts;
    private static EmbeddingServer embedder;

    private static synchronized EmbeddingServer embedder() {
        if (embedder == null) {
            embedder = new EmbeddingServer(384);
        }
        return embedder;
    }

    public ChildNode(Path dataDir, Map<String, String> extraEnv) {
        this.dataDir = dataDir;
        this.extraEnv = extraEnv;
    }

    /** Starts the node and waits until {@code /health} answers 200 (at most {@code timeoutSeconds}). */
    public void start(int timeoutSeconds) {
        start(timeoutSeconds, "io.trisync.Main", Map.of());
    }

    /**
     * Starts {@code mainClass} (a main that starts a node as {@code io.trisync.Main} does, such as
     * {@link PausingNodeMain}) with {@code moreEnv} for this start only, and waits for {@code /health}.
     */
    public void start(int timeoutSeconds, String mainClass, Map<String, String> moreEnv) {
        start(timeoutSeconds, mainClass, moreEnv, new String[0]);
    }

    /**
     * Starts {@code mainClass} as {@link #start(int, String, Map)} does, with {@code args} ({@code
     * --cluster}: a clustered node, joining the cluster of {@code CLUSTER_NAME} over {@code
     * cluster.xml} of the working directory).
     */
    public void start(int timeoutSeconds, String mainClass, Map<String, String> moreEnv, String... args) {
        if (alive()) {
            // A second process would find the ports held and exit, and the first would answer /health
            // for it: a test would then kill and check the wrong process.
            throw new IllegalStateException("node on port " + httpPort + " is still running; kill it first");
        }
        Map<String, String> env = new HashMap<>(extraEnv);
        env.putAll(moreEnv);
        if (!env.containsKey("EMBEDDING_PROVIDER")) {
            env.putAll(embedder().nodeEnv("child-embed"));
        }
        env.put("DATA_DIR", dataDir.toString());
        env.put("EMBEDDED_PERSIST", "true");
        env.put("HTTP_PORT", String.valueOf(httpPort));
        env.put("EMBEDDED_MONGO_PORT", String.valueOf(mongoPort));
        env.put("EMBEDDED_S3_PORT", String.valueOf(s3Port));
        env.put("EMBEDDED_QDRANT_PORT", String.valueOf(qdrantPort));
        env.putIfAbsent("AUTH_ENABLED", "false");
        env.putIfAbsent("HTTP_INSTANCES", "1");
        ProcessBuilder builder = ChildJvm.java(List.of("-Xmx512m"), mainClass, args)
                .redirectOutput(dataDir.resolve("node-" + (++starts) + ".log").toFile());
        builder.environment().putAll(env);
        try {
            Files.createDirectories(dataDir);
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Await.until(
                "node on port " + httpPort + " to answer /health with 200 (see " + log() + ")",
                timeoutSeconds * 1000L,
                () -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("node exited with " + process.exitValue() + "; see " + log());
                    }
                    return healthy();
                });
    }

    /** Ends the node's process with SIGKILL (no shutdown hook runs) and waits until it is gone. */
    public void kill() {
        ChildJvm.kill(process, "node on port " + httpPort);
    }

    /**
     * Stops the node gracefully with SIGTERM (its shutdown hook runs, as under an orchestrator's stop)
     * and waits up to {@code timeoutSeconds} for the process to exit; returns its exit status.
     */
    public int terminate(int timeoutSeconds) {
        process.destroy();
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError(
                        "node on port " + httpPort + " did not exit within " + timeoutSeconds + " s of SIGTERM");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
    }

    /** The folder of the embedded MongoDB's file, to open it again once the node is gone. */
    public Path mongoDir() {
        return dataDir.resolve("mongo");
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public int httpPort() {
        return httpPort;
    }

    /** The log file of the latest start. */
    public Path log() {
        return dataDir.resolve("node-" + starts + ".log");
    }

    /** What the latest start has logged so far. */
    public String logText() {
        try {
            return Files.readString(log());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A configuration pointing at this node's embedded stores (while it runs), for reading them back
     * with the real clients from the test.
     */
    public TrisyncConfig storesConfig() {
        return ClusterProcess.storesConfig(new ClusterProcess.StorePorts(mongoPort, s3Port, qdrantPort));
    }

    @Override
    public void close() {
        if (alive()) {
            kill();
        }
    }

    private boolean healthy() {
        return ChildJvm.healthy(httpPort);
    }
}
