package io.trisync.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One embedded store in a child JVM ({@link EmbeddedServerMain}) on a fixed port and folder, so a
 * test can kill it with SIGKILL and start it again on the same data.
 */
public final class ServerJvm implements AutoCloseable {

    private final String store;
    private final Path dir;
    private final int port = ChildJvm.freePort();
    private Process process;

    public ServerJvm(String store, Path dir) {
        this.store = store;
        this.dir = dir;
    }

    public int port() {
        return port;
    }

    /** Starts the server's JVM and waits until it says it listens. */
    public void start() {
        try {
            process = ChildJvm.java(
                            List.of(), EmbeddedServerMain.class.getName(), store, String.valueOf(port), dir.toString())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicBoolean ready = new AtomicBoolean();
        BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread drain = new Thread(() -> out.lines().forEach(line -> {
            if (line.equals("READY")) {
                ready.set(true);
            }
        }));
        drain.setDaemon(true);
        drain.start();
        Process started = process;
        Await.until("the " + store + " server's JVM to be ready", 60_000, () -> {
            if (!started.isAlive()) {
                throw new AssertionError(store + " server JVM exited with " + started.exitValue());
            }
            return ready.get();
        });
    }

    /** SIGKILL, then waits until the process is gone. */
    public void kill() {
        ChildJvm.kill(process, store + " server JVM");
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
