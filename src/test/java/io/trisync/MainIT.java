package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.ChildJvm;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The real command line in a child JVM. */
@Timeout(240)
class MainIT {

    private static Process run(String key, String value) throws Exception {
        ProcessBuilder pb = ChildJvm.java(List.of(), Main.class.getName());
        pb.environment().put(key, value);
        pb.redirectErrorStream(false);
        return pb.start();
    }

    @Test
    @DisplayName("A bad configuration value stops the node at start with one line naming the key and value")
    void badValueStopsTheNode() throws Exception {
        Process p = run("HTTP_PORT", "abc");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).isEqualTo("Invalid configuration HTTP_PORT=\"abc\": expected a whole number");
        assertThat(out).doesNotContain("listening");
    }

    @Test
    @DisplayName("A negative interval stops the node too")
    void negativeIntervalStopsTheNode() throws Exception {
        Process p = run("SYNC_CLEANUP_INTERVAL_SECONDS", "-30");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).contains("SYNC_CLEANUP_INTERVAL_SECONDS").contains("-30");
    }

    /** A node's command line on free ports and its own DATA_DIR, with {@code env} on top. */
    private static Process start(Map<String, String> env) throws Exception {
        ProcessBuilder pb = ChildJvm.java(List.of(), Main.class.getName());
        Outputs outputs =
                new Outputs(Files.createTempFile("main-out", ".log"), Files.createTempFile("main-err", ".log"));
        pb.redirectErrorStream(false)
                .redirectOutput(outputs.out().toFile())
                .redirectError(outputs.err().toFile());
        pb.environment().remove("CONFIG_FILE");
        pb.environment()
                .put("DATA_DIR", Files.createTempDirectory("trisync-main").toString());
        for (String key : List.of("HTTP_PORT", "EMBEDDED_MONGO_PORT", "EMBEDDED_S3_PORT", "EMBEDDED_QDRANT_PORT")) {
            pb.environment().put(key, String.valueOf(ChildJvm.freePort()));
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        OUTPUTS.put(p, outputs);
        return p;
    }

    /** Where a started child writes: files, so that a node that does not exit cannot block on a full pipe. */
    private record Outputs(Path out, Path err) {}

    private static final Map<Process, Outputs> OUTPUTS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Waits for {@code p} to exit 2 with {@code line} as all of its standard error and no stack trace;
     * a node that starts instead is killed after two minutes and fails the test.
     */
    private static void assertRefused(Process p, String line) throws Exception {
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            ChildJvm.kill(p, "a node that should have refused to start");
        }
        String err = Files.readString(OUTPUTS.get(p).err()).trim();
        String out = Files.readString(OUTPUTS.get(p).out());
        assertThat(ended).as("the node exited; its output: %s", out).isTrue();
        assertThat(err).isEqualTo(line);
        assertThat(out).doesNotContain("\tat ").doesNotContain("Deployed");
        assertThat(p.exitValue()).isEqualTo(2);
    }

    @Test
    @DisplayName("A CONFIG_FILE that does not exist stops the node, naming CONFIG_FILE and the path")
    void missingConfigFileStopsTheNode() throws Exception {
        assertRefused(
                start(Map.of("CONFIG_FILE", "/nope.json")),
                "Invalid configuration CONFIG_FILE=\"/nope.json\": no such file");
    }

    @Test
    @DisplayName("HTTP_PORT held by another process stops the node before anything starts, naming key and port")
    void httpPortInUseStopsTheNode() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", ChildJvm.freePort()));
            int port = taken.getLocalPort();
            assertRefused(
                    start(Map.of("HTTP_PORT", String.valueOf(port))),
                    "HTTP_PORT " + port + " is in use by another process");
        }
    }

    @Test
    @DisplayName("EMBEDDED_S3_PORT held by another process stops the node, naming key and port")
    void embeddedPortInUseStopsTheNode() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", ChildJvm.freePort()));
            int port = taken.getLocalPort();
            assertRefused(
                    start(Map.of("EMBEDDED_S3_PORT", String.valueOf(port))),
                    "EMBEDDED_S3_PORT " + port + " is in use by another process");
        }
    }

    @Test
    @DisplayName("DATA_DIR naming a regular file stops the node with DATA_DIR … is not a directory")
    void dataDirThatIsAFileStopsTheNode() throws Exception {
        Path file = Files.createTempFile("trisync-data", ".txt");
        assertRefused(start(Map.of("DATA_DIR", file.toString())), "DATA_DIR " + file + " is not a directory");
    }

    @Test
    @DisplayName("A DATA_DIR whose embedded MongoDB file another process holds stops the node naming DATA_DIR")
    void dataDirHeldByAnotherNodeStopsTheNode() throws Exception {
        Path data = Files.createTempDirectory("trisync-held");
        Path mv = Files.createDirectories(data.resolve("mongo")).resolve("trisync.mv");
        // This JVM holds the lock H2 takes on the file, as a first node on the same DATA_DIR does.
        try (FileChannel channel = FileChannel.open(mv, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            assertRefused(
                    start(Map.of("DATA_DIR", data.toString())),
                    "DATA_DIR " + data + " is in use by another trisync node (its embedded MongoDB file is locked)");
        }
    }
}
