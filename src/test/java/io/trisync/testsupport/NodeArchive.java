package io.trisync.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A class-data-sharing archive (AppCDS, JEP 350) of the classes a node loads, made once per build
 * from {@code target/trisync.jar}, so that the nodes the tests start in child JVMs map those classes
 * instead of reading and verifying them again at every start: on this machine a child node answered
 * {@code /health} after about 3.7 s with the archive against 7.3 s without it.
 *
 * <p>The archive is dumped at the normal exit of one cluster node started for it (with an upload, so
 * the ingest path's classes are in it; a standalone node maps the same classes) under a file lock, so the test JVMs running at once make it once
 * between them; its name carries the jar's size and time, so a rebuilt jar gets a new one. A JVM
 * checks an archive against its class path and ignores it when they differ, so the archive only
 * ever makes a start faster. Where the jar is missing or older than {@code target/classes} (a test
 * run from an IDE without {@code mvn package}), children run from the test class path without an
 * archive, as before. The first test that starts a child in each test JVM waits for the archive (about
 * 20 to 35 s on two busy cores), so the classes that may come first (MainIT, AuthIT,
 * EventPublisherIT) allow 240 s per test.
 */
public final class NodeArchive {

    private static final Path TARGET = Path.of("target").toAbsolutePath();
    private static final Path JAR = TARGET.resolve("trisync.jar");
    private static final List<String> NODE_OPTIONS =
            Stream.concat(Stream.of("-Xmx512m"), ChildJvm.OPTIONS.stream()).toList();

    /** An archive the JVM cannot use is only slower: no warning on the child's standard output. */
    private static final String QUIET = "-Xlog:cds*=off";

    private static Optional<Path> archive;

    private NodeArchive() {}

    /**
     * The {@code -cp} (and, when there is an archive, {@code -XX:SharedArchiveFile}) options for a
     * child JVM: the packaged jar first, then the test class path (test mains such as {@link
     * PausingNodeMain}).
     */
    public static List<String> classPathOptions() {
        String testPath = System.getProperty("java.class.path");
        Optional<Path> shared = archive();
        if (shared.isEmpty()) {
            return List.of("-cp", testPath);
        }
        return List.of("-XX:SharedArchiveFile=" + shared.get(), QUIET, "-cp", JAR + File.pathSeparator + testPath);
    }

    /** {@code JAVA_OPTS} for {@code bin/cluster-node}, which runs {@code -jar target/trisync.jar}. */
    public static String clusterNodeOptions() {
        return String.join(" ", NODE_OPTIONS)
                + archive()
                        .map(a -> " -XX:SharedArchiveFile=" + a + " " + QUIET)
                        .orElse("");
    }

    /** The archive, made now if this build has none yet; empty where there is no fresh jar or making it failed. */
    public static synchronized Optional<Path> archive() {
        if (archive == null) {
            archive = freshJar() ? make() : Optional.empty();
        }
        return archive;
    }

    private static boolean freshJar() {
        if (!Files.isRegularFile(JAR)) {
            return false;
        }
        try (Stream<Path> classes = Files.walk(TARGET.resolve("classes"))) {
            FileTime jar = Files.getLastModifiedTime(JAR);
            return classes.filter(Files::isRegularFile)
                    .allMatch(f -> modified(f).compareTo(jar) <= 0);
        } catch (IOException e) {
            return false;
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<Path> make() {
        Path dir = TARGET.resolve("cds");
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("node-" + Files.size(JAR) + "-"
                    + Files.getLastModifiedTime(JAR).toMillis() + ".jsa");
            Path failed = dir.resolve(file.getFileName() + ".failed");
            try (FileChannel lockFile =
                            FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock lock = lockFile.lock()) {
                if (Files.exists(failed)) {
                    // Another test JVM of this build tried and failed: do not pay for a second attempt.
                    return Optional.empty();
                }
                if (!Files.exists(file)) {
                    try {
                        dump(dir, file);
                    } catch (IOException | RuntimeException e) {
                        Files.writeString(failed, e.toString());
                        throw e;
                    }
                }
            }
            return Optional.of(file);
        } catch (IOException | RuntimeException e) {
            System.err.println("NodeArchive: no class-data archive, child JVMs start without one: " + e);
            return Optional.empty();
        }
    }

    /**
     * Starts a cluster node ({@code bin/cluster-node}, so Hazelcast's classes are in the archive too)
     * that dumps its classes at exit, uploads one file to it and ends it with SIGTERM.
     */
    private static void dump(Path dir, Path file) throws IOException {
        Path partial = dir.resolve(file.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        Path data = Files.createTempDirectory("trisync-cds");
        int http = ChildJvm.freePort();
        ProcessBuilder builder = new ProcessBuilder(List.of("bin/cluster-node", "1"))
                .directory(TARGET.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("dump.log").toFile());
        builder.environment()
                .putAll(Map.of(
                        "JAVA",
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                        "JAVA_OPTS", String.join(" ", NODE_OPTIONS) + " -XX:ArchiveClassesAtExit=" + partial,
                        "TRISYNC_JAR", JAR.toString(),
                        "CLUSTER_DIR", data.toString(),
                        "CLUSTER_NAME", TestStack.unique("cds"),
                        "HTTP_PORT", String.valueOf(http),
                        "EMBEDDED_MONGO_PORT", String.valueOf(ChildJvm.freePort()),
                        "EMBEDDED_S3_PORT", String.valueOf(ChildJvm.freePort()),
                        "EMBEDDED_QDRANT_PORT", String.valueOf(ChildJvm.freePort()),
                        "AUTH_ENABLED", "false"));
        builder.environment().put("HTTP_INSTANCES", "1");
        Process node = builder.start();
        try {
            Await.until("the archive's node to answer /health (see " + dir.resolve("dump.log") + ")", 60_000, () -> {
                if (!node.isAlive()) {
                    throw new IllegalStateException("the archive's node exited with " + node.exitValue());
                }
                return ChildJvm.healthy(http);
            });
            upload(http);
            node.destroy();
            if (!node.waitFor(60, TimeUnit.SECONDS) || !Files.isRegularFile(partial)) {
                throw new IllegalStateException(
                        "the archive's node wrote no archive (see " + dir.resolve("dump.log") + ")");
            }
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            node.destroyForcibly();
            delete(data);
        }
    }

    private static void delete(Path tree) throws IOException {
        try (Stream<Path> paths = Files.walk(tree)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void upload(int port) throws IOException, InterruptedException {
        String boundary = "cds-boundary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\ncds\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cds.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nthe classes of an upload\r\n--" + boundary + "--\r\n";
        HttpResponse<String> reply = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/files"))
                                .timeout(Duration.ofSeconds(60))
                                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (reply.statusCode() != 201) {
            throw new IllegalStateException(
                    "the archive's upload answered " + reply.statusCode() + ": " + reply.body());
        }
    }
}
