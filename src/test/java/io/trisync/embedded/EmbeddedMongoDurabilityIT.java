package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddedMongoMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded MongoDB's own durability: writes acknowledged to a client in this JVM, the server's
 * JVM killed with SIGKILL right after the last acknowledgement, restarted on the same file.
 */
@Timeout(180)
class EmbeddedMongoDurabilityIT {

    private static final int N = 400;
    private static final int CONCURRENCY = 16;

    private final Path dir = TestStack.tempDir("trisync-mongo-kill");
    private final int port = freePort();
    private Vertx vertx;
    private Process server;
    /** How many times a server JVM said READY. */
    private final AtomicInteger ready = new AtomicInteger();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.destroyForcibly();
        }
        vertx.close().await();
    }

    @Test
    @DisplayName("Every insert, update and delete acknowledged before a kill -9 is there after the restart")
    void acknowledgedWritesSurviveKill() throws Exception {
        server = startServer();
        MongoClient client = client();
        AtomicInteger next = new AtomicInteger();
        List<Future<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < CONCURRENCY; lane++) {
            lanes.add(insertUntilDone(client, next));
        }
        Future.all(lanes).await();
        client.updateCollection(
                        "docs",
                        new JsonObject().put("_id", "doc-0"),
                        new JsonObject().put("$set", new JsonObject().put("edited", true)))
                .await();
        client.removeDocument("docs", new JsonObject().put("_id", "doc-1")).await();
        // The last acknowledgement has arrived: kill at once, before any background commit could run.
        server.destroyForcibly();
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        client.close().await();

        server = startServer();
        MongoClient reader = client();
        assertThat(reader.count("docs", new JsonObject()).await()).isEqualTo(N - 1L);
        assertThat(reader.findOne("docs", new JsonObject().put("_id", "doc-0"), null)
                        .await()
                        .getBoolean("edited"))
                .isTrue();
        assertThat(reader.findOne("docs", new JsonObject().put("_id", "doc-1"), null)
                        .await())
                .isNull();
        assertThat(reader.findOne("docs", new JsonObject().put("_id", "doc-" + (N - 1)), null)
                        .await())
                .isNotNull();
        reader.close().await();
    }

    private Future<Void> insertUntilDone(MongoClient client, AtomicInteger next) {
        int i = next.getAndIncrement();
        if (i >= N) {
            return Future.succeededFuture();
        }
        return client.insert("docs", new JsonObject().put("_id", "doc-" + i).put("n", i))
                .compose(id -> insertUntilDone(client, next));
    }

    private MongoClient client() {
        return MongoClient.create(
                vertx,
                new JsonObject()
                        .put("connection_string", "mongodb://127.0.0.1:" + port)
                        .put("db_name", "durability")
                        .put("serverSelectionTimeoutMS", 5000));
    }

    private Process startServer() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "-XX:-UsePerfData",
                        "-cp",
                        System.getProperty("java.class.path"),
                        EmbeddedMongoMain.class.getName(),
                        String.valueOf(port),
                        dir.toString())
                .redirectErrorStream(true)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Thread drain = new Thread(() -> out.lines().forEach(line -> {
            if (line.equals("READY")) {
                ready.incrementAndGet();
            }
        }));
        drain.setDaemon(true);
        int before = ready.get();
        drain.start();
        Await.until("the MongoDB-wire server's JVM to be ready", 60_000, () -> {
            if (!p.isAlive()) {
                throw new AssertionError("server JVM exited with " + p.exitValue());
            }
            return ready.get() > before;
        });
        return p;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
