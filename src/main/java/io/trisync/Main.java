package io.trisync;

import io.trisync.auth.Tokens;
import io.trisync.config.ConfigException;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code java -jar target/trisync.jar [run] [--cluster]} loads the configuration (a
 * bad value stops here with one line naming the key, exit 2, as does a value the machine cannot use
 * when the node starts), starts a {@link Node}, and stops it on SIGTERM
 * or Ctrl-C. {@code java -jar target/trisync.jar token --tenant T [--admin] [--ttl 1h]} prints a token
 * signed with the configured secret (or the one generated under DATA_DIR).
 */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        List<String> argv = List.of(args);
        if (argv.contains("--help") || argv.contains("-h")) {
            String jar = jar();
            System.out.println("usage: java -jar " + jar + " [run] [--cluster]\n"
                    + "       java -jar " + jar + " token (--tenant T | --admin [--tenant T]) [--ttl 1h]\n"
                    + "       java -jar " + jar
                    + " health   (exit 0 when this machine's node answers /health with 200)");
            return;
        }
        if (!argv.isEmpty() && argv.get(0).equals("health")) {
            System.exit(health());
            return;
        }
        if (!argv.isEmpty() && argv.get(0).equals("token")) {
            System.exit(token(argv.subList(1, argv.size())));
            return;
        }
        TrisyncConfig config;
        try {
            config = ConfigLoader.load();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Node node;
        try {
            node = Node.start(config, argv.contains("--cluster"))
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.MINUTES);
        } catch (Exception | LinkageError e) {
            ConfigException mistake = configMistake(e);
            if (mistake != null) {
                // An expected mistake (a port taken, DATA_DIR a file): one line, the trace only at DEBUG.
                LOG.debug("Node did not start", e);
                System.err.println(mistake.getMessage());
                System.exit(2);
                return;
            }
            LOG.error("Node did not start: {}", rootMessage(e), e);
            System.exit(1);
            return;
        }
        StopSignals.record();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node), "trisync-shutdown"));
    }

    /**
     * Asks the node on this machine ({@code HTTP_PORT} of the configuration) for {@code /health}, for
     * container health checks in images without curl: 0 when it answers 200, 1 otherwise, 2 for bad
     * configuration.
     */
    static int health() {
        int port;
        try {
            port = ConfigLoader.load().httpPort();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        try {
            java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .build()
                    .send(
                            java.net.http.HttpRequest.newBuilder(
                                            java.net.URI.create("http://127.0.0.1:" + port + "/health"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
            System.out.println(answer.statusCode() + " " + answer.body());
            return answer.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            System.out.println("no answer on port " + port + ": " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** Prints a token; returns the exit status (2 for bad arguments or configuration). */
    static int token(List<String> args) {
        String tenant = null;
        boolean admin = false;
        Duration ttl = Duration.ofHours(1);
        try {
            for (int i = 0; i < args.size(); i++) {
                switch (args.get(i)) {
                    case "--tenant" -> tenant = args.get(++i);
                    case "--admin" -> admin = true;
                    case "--ttl" -> ttl = duration(args.get(++i));
                    default -> throw new IllegalArgumentException("unknown argument " + args.get(i));
                }
            }
            TrisyncConfig config = ConfigLoader.load();
            Vertx vertx = Vertx.vertx();
            try {
                Duration max = Duration.ofSeconds(config.auth().maxTokenLifetimeSeconds());
                System.out.println(Tokens.of(vertx, Tokens.secret(config), max).issue(tenant, admin, ttl));
            } finally {
                vertx.close();
            }
            return 0;
        } catch (IndexOutOfBoundsException e) {
            System.err.println("token: an option is missing its value");
        } catch (IllegalArgumentException | IllegalStateException | ConfigException | Failure e) {
            System.err.println("token: " + e.getMessage());
        }
        return 2;
    }

    /** The longest {@code --ttl}: ten years (a token's lifetime is written in whole seconds, as an int). */
    static final Duration MAX_TTL = Duration.ofDays(3650);

    /** {@code 90s}, {@code 30m}, {@code 1h}, {@code 7d}; at most {@link #MAX_TTL}. */
    static Duration duration(String text) {
        if (!text.matches("[1-9][0-9]{0,6}[smhd]")) {
            throw new IllegalArgumentException("--ttl must look like 90s, 30m, 1h or 7d");
        }
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        Duration ttl =
                switch (text.charAt(text.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
        if (ttl.compareTo(MAX_TTL) > 0) {
            // Beyond an int of seconds the library wrote no exp at all, or a wrapped one.
            throw new IllegalArgumentException("--ttl is at most 3650d");
        }
        return ttl;
    }

    private static void stop(Node node) {
        try {
            node.stop(StopSignals.received())
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Node did not stop cleanly: {}", rootMessage(e));
        }
    }

    /** The {@link ConfigException} among {@code e}'s causes, or null. */
    private static ConfigException configMistake(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConfigException c) {
                return c;
            }
        }
        return null;
    }

    /** The jar this class runs from, as a user would type it in the working directory. */
    static String jar() {
        try {
            return jar(
                    Path.of(Main.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI()),
                    Path.of("").toAbsolutePath());
        } catch (URISyntaxException | RuntimeException e) {
            return "trisync.jar";
        }
    }

    /**
     * {@code location} relative to {@code workDir} when it lies under it, else absolute; {@code
     * trisync.jar} when the classes are not in a jar (an IDE, the test class path). The start log and
     * the usage named {@code target/trisync.jar}, wrong for a copy of the jar anywhere else.
     */
    static String jar(Path location, Path workDir) {
        if (!location.getFileName().toString().endsWith(".jar")) {
            return "trisync.jar";
        }
        Path jar = location.toAbsolutePath().normalize();
        return jar.startsWith(workDir) ? workDir.relativize(jar).toString() : jar.toString();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
