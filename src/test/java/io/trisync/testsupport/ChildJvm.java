package io.trisync.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** What the tests that run part of trisync in a child JVM and kill it share. */
public final class ChildJvm {

    private ChildJvm() {}

    /**
     * What every child JVM runs with. The suite is bound by the CPU of two cores, and a child lives for
     * seconds to a minute: the C1 compiler alone ({@code TieredStopAtLevel=1}) costs a fraction of what
     * C2 would spend compiling code the child never runs long enough to profit from.
     */
    public static final List<String> OPTIONS = List.of("-XX:-UsePerfData", "-XX:TieredStopAtLevel=1");

    /**
     * {@code java [OPTIONS] [jvmOptions] -cp <the packaged jar and the test class path> mainClass args…},
     * with the node classes' archive ({@link NodeArchive}) where there is one.
     */
    public static ProcessBuilder java(List<String> jvmOptions, String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(OPTIONS);
        command.addAll(jvmOptions);
        command.addAll(NodeArchive.classPathOptions());
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // As TestStack.config: a caller's environment may set another.
        builder.environment().put("EMBEDDING_MODEL_CHANGE", TestStack.IN_PLACE);
        return builder;
    }

    /** Ends {@code process} with SIGKILL (no shutdown hook runs) and waits until it is gone. */
    public static void kill(Process process, String what) {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError(what + " did not die within 30 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Whether a node answers {@code GET /health} on {@code port} with 200 (1 s to connect, 3 s to answer). */
    public static boolean healthy(int port) {
        try {
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net
                    .URI
                    .create("http://127.0.0.1:" + port + "/health")
                    .toURL()
                    .openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(3000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A port free now, below the system's ephemeral range, and never handed out before in this JVM. A
     * child restarted after a kill binds its ports again; a port of the ephemeral range could meanwhile
     * have become the local end of any outgoing connection (seen: a restarted node failing with
     * "Address already in use"). Another process may still take it before it is bound.
     */
    public static synchronized int freePort() {
        int below = ephemeralLow();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = PORTS_FROM + RANDOM.nextInt(Math.max(1, below - PORTS_FROM));
            if (handedOut.add(port) && bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port found below " + below);
    }

    private static final int PORTS_FROM = 10_000;
    private static final Random RANDOM = new Random();
    private static final Set<Integer> handedOut = new HashSet<>();

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of the system's ephemeral range (Linux), or 32768 where it cannot be read. */
    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
            int low = Integer.parseInt(range.trim().split("\\s+")[0]);
            return low > PORTS_FROM + 1000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
