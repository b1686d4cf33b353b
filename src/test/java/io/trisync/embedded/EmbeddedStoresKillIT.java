package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.QdrantVectorStore;
import io.trisync.store.S3BlobStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddedServerMain;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.ServerJvm;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each embedded store's own durability: writes acknowledged to a client in this JVM, the store's JVM
 * killed with SIGKILL (right after the last acknowledgement, or with writes in flight), restarted on
 * the same folder, read back with the official client.
 */
@Timeout(180)
class EmbeddedStoresKillIT {

    private static final int CONCURRENCY = 16;
    /** Makes a second of increments outgrow the megabyte after which MVStore would commit on its own. */
    private static final String PAD = "x".repeat(2_000);

    private final Path dir = TestStack.tempDir("trisync-store-kill");
    private Vertx vertx;
    private ServerJvm server;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        vertx.close().await();
    }

    @Test
    @DisplayName("MongoDB: every insert, update and delete acknowledged before a kill -9 is there after the restart")
    void mongoKeepsAcknowledgedWrites() {
        int n = 400;
        server = new ServerJvm("mongo", dir);
        server.start();
        MongoClient client = mongo();
        AtomicInteger next = new AtomicInteger();
        lanes(CONCURRENCY, () -> {
                    int i = next.getAndIncrement();
                    return i >= n
                            ? null
                            : client.insert(
                                    "docs",
                                    new JsonObject().put("_id", "doc-" + i).put("n", i));
                })
                .await();
        client.updateCollection(
                        "docs",
                        new JsonObject().put("_id", "doc-0"),
                        new JsonObject().put("$set", new JsonObject().put("edited", true)))
                .await();
        client.removeDocument("docs", new JsonObject().put("_id", "doc-1")).await();
        // The last acknowledgement has arrived: kill at once, before any background commit could run.
        server.kill();
        client.close().await();

        server.start();
        MongoClient reader = mongo();
        assertThat(reader.count("docs", new JsonObject()).await()).isEqualTo(n - 1L);
        assertThat(reader.findOne("docs", new JsonObject().put("_id", "doc-0"), null)
                        .await()
                        .getBoolean("edited"))
                .isTrue();
        assertThat(reader.findOne("docs", new JsonObject().put("_id", "doc-1"), null)
                        .await())
                .isNull();
        reader.close().await();
    }

    @Test
    @DisplayName(
            "MongoDB: increments acknowledged across several commits of the file are applied exactly once after kills")
    void mongoReplaysIncrementsExactlyOnce() {
        server = new ServerJvm("mongo", dir);
        server.start();
        long acknowledged = 0;
        long recordsAcknowledged = 0;
        for (int round = 0; round < 3; round++) {
            MongoClient client = mongo();
            String prefix = "r" + round + "-";
            AtomicLong acked = new AtomicLong();
            AtomicLong sent = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            // 16 lanes of $inc on one counter, each also inserting a 2 KB document per increment,
            // while the file is committed about once a second: the kill comes with increments in
            // flight, and a commit of the file that held increments beyond its journal mark would
            // have them applied twice.
            Future<Void> running = lanes(CONCURRENCY, () -> {
                if (stop.get()) {
                    return null;
                }
                long i = sent.incrementAndGet();
                return client.updateCollectionWithOptions(
                                "counters",
                                new JsonObject().put("_id", "c"),
                                new JsonObject().put("$inc", new JsonObject().put("n", 1)),
                                new UpdateOptions().setUpsert(true))
                        .compose(r -> client.insert(
                                "increments",
                                new JsonObject().put("_id", prefix + i).put("pad", PAD)))
                        .onSuccess(r -> acked.incrementAndGet());
            });
            long until = acked.get() + 1_500 + 700L * round;
            waitUntil(() -> acked.get() >= until);
            long ackedAtKill = acked.get();
            server.kill();
            stop.set(true);
            running.otherwise(e -> null).await();
            client.close().await();
            long inFlight = sent.get() - ackedAtKill;

            server.start();
            MongoClient reader = mongo();
            long counter = reader.findOne("counters", new JsonObject().put("_id", "c"), null)
                    .await()
                    .getLong("n");
            long records = reader.count("increments", new JsonObject()).await();
            reader.close().await();
            assertThat(counter)
                    .as("counter after round %d (%d acknowledged before, %d in flight)", round, ackedAtKill, inFlight)
                    .isBetween(acknowledged + ackedAtKill, acknowledged + ackedAtKill + inFlight);
            assertThat(records)
                    .as("documents inserted after acknowledged increments, round %d", round)
                    .isBetween(recordsAcknowledged + ackedAtKill, counter);
            acknowledged = counter;
            recordsAcknowledged += ackedAtKill;
        }
    }

    @Test
    @DisplayName("S3: after a kill -9 during PUTs every acknowledged object is whole and nothing unfinished is listed")
    void s3ListsOnlyCompletedPuts() throws Exception {
        server = new ServerJvm("s3", dir);
        server.start();
        S3BlobStore s3 = s3();
        s3.init().await();
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        Set<String> sent = ConcurrentHashMap.newKeySet();
        AtomicBoolean stopped = new AtomicBoolean();
        Random random = new Random(3);
        Future<Void> load = lanes(8, () -> {
            if (stopped.get()) {
                return null;
            }
            byte[] bytes = new byte[1 << 20];
            random.nextBytes(bytes);
            String key = "t/1/" + UUID.randomUUID();
            String sha = Fixtures.sha256(bytes);
            sent.add(key);
            return s3.putBytes(key, Buffer.buffer(bytes), "application/octet-stream", Map.of("sha256", sha))
                    .onSuccess(info -> acknowledged.put(key, sha))
                    .otherwise(e -> null);
        });
        waitUntil(() -> acknowledged.size() >= 20);
        server.kill();
        stopped.set(true);
        load.await();
        s3.close().await();
        // What a PUT cut off by a kill leaves (the store's temporary file beside the final path), placed
        // by hand: whether the kill above caught a PUT mid-write is up to timing.
        String acked = acknowledged.keySet().iterator().next();
        Path leftOver = dir.resolve("kill").resolve(acked + "-" + UUID.randomUUID());
        Files.write(leftOver, new byte[] {1, 2, 3});

        server.start();
        assertThat(leftOver).as("a temporary file is removed at start").doesNotExist();
        assertThat(temporaryFiles())
                .as("temporary files left after the restart")
                .isZero();
        S3BlobStore reader = s3();
        String inProgress = acked + "-" + UUID.randomUUID();
        Files.write(dir.resolve("kill").resolve(inProgress), new byte[] {4, 5, 6});
        List<BlobInfo> listed = reader.list("", null, 1000, true).await().items();
        assertThat(listed.stream().map(BlobInfo::key))
                .as("a PUT in progress is not listed")
                .doesNotContain(inProgress);
        for (BlobInfo blob : listed) {
            assertThat(sent)
                    .as("listed key %s was written by the test", blob.key())
                    .contains(blob.key());
            assertThat(blob.size()).isEqualTo(1 << 20);
            assertThat(Fixtures.sha256(reader.getBytes(blob.key()).await().getBytes()))
                    .as("content of %s", blob.key())
                    .isEqualTo(blob.sha256());
        }
        assertThat(listed.stream().map(BlobInfo::key)).containsAll(acknowledged.keySet());
        // Pages of 5 from the partition's directory, which holds more: the server answers them by
        // name (NamedPages), and they list what the one whole listing does, the PUT in progress left out.
        List<String> paged = new ArrayList<>();
        String token = null;
        do {
            var page = reader.list("t/1/", token, 5, false).await();
            page.items().forEach(b -> paged.add(b.key()));
            token = page.next();
        } while (token != null);
        assertThat(paged).isEqualTo(listed.stream().map(BlobInfo::key).toList());
        reader.close().await();
    }

    @Test
    @DisplayName("Qdrant: every upsert and delete acknowledged before a kill -9 is there after the restart")
    void qdrantKeepsAcknowledgedWrites() {
        server = new ServerJvm("qdrant", dir);
        server.start();
        QdrantVectorStore qdrant = qdrant();
        qdrant.init().await();
        AtomicInteger next = new AtomicInteger();
        int files = 300;
        lanes(CONCURRENCY, () -> {
                    int i = next.getAndIncrement();
                    return i >= files ? null : qdrant.upsert(points("file-" + i));
                })
                .await();
        for (int i = 0; i < files; i += 3) {
            qdrant.deleteFile("t", "file-" + i).await();
        }
        server.kill();
        qdrant.close().await();

        server.start();
        QdrantVectorStore reader = qdrant();
        for (int i = 0; i < files; i++) {
            assertThat(reader.count("t", "file-" + i).await())
                    .as("points of file-%d", i)
                    .isEqualTo(i % 3 == 0 ? 0L : 4L);
        }
        reader.close().await();
    }

    private static List<ChunkPoint> points(String fileId) {
        List<ChunkPoint> points = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            points.add(ChunkPoint.of("t", fileId, c, 1, "00", "m", new float[] {1, c, 2, 3}));
        }
        return points;
    }

    /** Runs {@code lanes} chains of the futures {@code next} makes, each waiting for its last, until it returns null. */
    private Future<Void> lanes(int lanes, Supplier<Future<?>> next) {
        List<Future<Void>> all = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            all.add(Future.<Void>succeededFuture().compose(v -> chain(next)));
        }
        return Future.all(all).mapEmpty();
    }

    private static Future<Void> chain(Supplier<Future<?>> next) {
        Future<?> step = next.get();
        return step == null ? Future.succeededFuture() : step.compose(v -> chain(next));
    }

    private static void waitUntil(BooleanSupplier condition) {
        Await.until("enough acknowledged writes", 60_000, condition);
    }

    private long temporaryFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> PartialWrites.isTemporary(p.getFileName().toString()))
                    .count();
        }
    }

    private MongoClient mongo() {
        return MongoClient.create(
                vertx,
                new JsonObject()
                        .put("connection_string", "mongodb://127.0.0.1:" + server.port())
                        .put("db_name", "durability")
                        .put("serverSelectionTimeoutMS", 5000));
    }

    private S3BlobStore s3() {
        return new S3BlobStore(
                vertx,
                new TrisyncConfig.S3Config(
                        "http://127.0.0.1:" + server.port(),
                        "us-east-1",
                        EmbeddedServerMain.ACCESS,
                        EmbeddedServerMain.SECRET,
                        "kill",
                        8L << 20));
    }

    private QdrantVectorStore qdrant() {
        return new QdrantVectorStore(
                vertx, new TrisyncConfig.QdrantConfig("127.0.0.1", server.port(), "", false, "kill", 4));
    }
}
