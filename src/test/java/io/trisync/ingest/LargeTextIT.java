package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.BlobInfo;
import io.trisync.store.BlobStore;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.SmallHeapChild;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A large text file is embedded and upserted a batch at a time: in a small heap its upload and its
 * new version succeed with every point written and counted, and an embedding service that goes down
 * part way leaves no point behind (the file pending, as when its points were made at once) until
 * the index queue makes them all.
 */
@Timeout(900)
class LargeTextIT {

    /** Words of the file sent in a small heap: ~16 MB of text, 26,666 chunks. */
    static final int LARGE_WORDS = 3_200_000;

    /** The small heap: the bytes and the text of such a file fit, not its chunks, vectors and points at once. */
    static final String HEAP = "-Xmx112m";

    /** Files sent at once in the small heap, each of this many words (~12 MB, 20,000 chunks). */
    static final int CONCURRENT = 4;

    static final int CONCURRENT_WORDS = 2_400_000;

    /**
     * Their heap: side by side (before the budget) they exhausted it within seconds; at 128 MiB they
     * fitted even so, so this is the size that tells.
     */
    static final String CONCURRENT_HEAP = "-Xmx112m";

    /** Words of the files whose embedding fails part way: ~1.6 MB, 2,666 chunks, 11 upserts of 256. */
    static final int WORDS = 320_000;

    private final EmbeddingServer server = new EmbeddingServer(384);
    private final String tenant = TestStack.unique("large-text");
    private final String database = TestStack.unique("large-text");
    private Node node;
    private Http http;

    @AfterEach
    void stop() {
        if (http != null) {
            http.close();
        }
        if (node != null) {
            node.stop().await();
        }
        server.close();
    }

    @Test
    @DisplayName(
            "A 16 MB text is uploaded, then replaced by another, in a 112 MiB heap, every chunk's point written and counted")
    void largeTextInASmallHeap() throws Exception {
        Path first = text(LARGE_WORDS, 1);
        Path second = text(LARGE_WORDS, 2);
        Map<String, String> env = new HashMap<>(server.nodeEnv("large-text-embed"));
        env.put("MONGO_DB", database);
        env.put("AUTH_ENABLED", "false");
        env.put("EMBEDDING_BATCH_SIZE", "128");
        TrisyncConfig shared = TestStack.config();

        JsonObject result = SmallHeapChild.run(
                List.of(HEAP, "-XX:+ExitOnOutOfMemoryError"),
                env,
                shared,
                600,
                LargeTextInSmallHeap.class.getName(),
                first.toString(),
                second.toString(),
                tenant);

        System.out.printf(
                "Large text in a %s child JVM: upload %.1f s, new version %.1f s, re-index %.1f s, peak heap %.1f MiB of %.1f MiB%n",
                HEAP,
                result.getDouble("uploadSeconds"),
                result.getDouble("replaceSeconds", -1.0),
                result.getDouble("reindexSeconds", -1.0),
                result.getLong("peakHeapBytes") / 1048576.0,
                result.getLong("maxHeapBytes") / 1048576.0);
        assertThat(result.getInteger("uploadStatus"))
                .as(result.getString("upload"))
                .isEqualTo(201);
        assertThat(result.getInteger("replaceStatus"))
                .as(result.getString("replace"))
                .isEqualTo(200);
        String id = new JsonObject(result.getString("upload")).getString("id");
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, TestStack.nodeConfig(Map.of("MONGO_DB", database)));
        try {
            stores.init().await();
            FileRecord file = stores.metadata().get(id).await();
            int chunks = chunks(LARGE_WORDS);
            assertThat(file.contentVersion()).isEqualTo(2);
            assertThat(file.embedding().pending()).isFalse();
            assertThat(file.embedding().chunks()).isEqualTo(chunks);
            assertThat(stores.vectors().count(tenant, id).await()).isEqualTo(chunks);
            assertThat(stores.vectors().pointsOf(tenant, id).await())
                    .allMatch(p -> p.contentSha256().equals(file.sha256()));
            JsonObject reindex = result.getJsonObject("reindex");
            assertThat(reindex.getString("status"))
                    .as("the re-index: %s", reindex)
                    .isEqualTo("completed");
            assertThat(reindex.getJsonObject("result").getLong("files")).isEqualTo(1);
            assertThat(reindex.getJsonObject("result").getLong("chunks")).isEqualTo(chunks);
        } finally {
            stores.vectors().deleteFile(tenant, id).await();
            removeBlobs(stores);
            stores.close().await();
            vertx.close().await();
            Files.delete(first);
            Files.delete(second);
        }
    }

    @Test
    @DisplayName("Four large texts uploaded at once in a small heap are all stored, their points all made")
    void concurrentLargeTextsInASmallHeap() throws Exception {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            files.add(temporary(text(CONCURRENT_WORDS, 10 + i)));
        }
        Map<String, String> env = new HashMap<>(server.nodeEnv("large-text-embed"));
        env.put("MONGO_DB", database);
        env.put("AUTH_ENABLED", "false");
        env.put("EMBEDDING_BATCH_SIZE", "128");
        List<String> args = new ArrayList<>();
        args.add(tenant);
        files.forEach(f -> args.add(f.toString()));

        JsonObject result = SmallHeapChild.run(
                List.of(CONCURRENT_HEAP, "-XX:+ExitOnOutOfMemoryError"),
                env,
                TestStack.config(),
                600,
                ConcurrentLargeTexts.class.getName(),
                args.toArray(String[]::new));

        System.out.printf(
                "%d large texts at once in a %s child JVM: %.1f s, peak heap %.1f MiB of %.1f MiB%n",
                CONCURRENT,
                CONCURRENT_HEAP,
                result.getDouble("seconds"),
                result.getLong("peakHeapBytes") / 1048576.0,
                result.getLong("maxHeapBytes") / 1048576.0);
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, TestStack.nodeConfig(Map.of("MONGO_DB", database)));
        List<String> ids = new ArrayList<>();
        try {
            stores.init().await();
            for (Object o : result.getJsonArray("uploads")) {
                JsonObject upload = (JsonObject) o;
                assertThat(upload.getInteger("status"))
                        .as(upload.getString("body"))
                        .isIn(201, 202);
                String id = new JsonObject(upload.getString("body")).getString("id");
                ids.add(id);
                FileRecord file = Await.value(
                        "file " + id + " to be committed with its points",
                        240_000,
                        () -> stores.metadata().get(id).await(),
                        f -> !f.embedding().pending() && f.embedding().chunks() > 0);
                assertThat(file.embedding().chunks()).isEqualTo(chunks(CONCURRENT_WORDS));
                assertThat(stores.vectors().count(tenant, id).await()).isEqualTo(chunks(CONCURRENT_WORDS));
            }
        } finally {
            for (String id : ids) {
                stores.vectors().deleteFile(tenant, id).await();
            }
            removeBlobs(stores);
            stores.close().await();
            vertx.close().await();
        }
    }

    @Test
    @DisplayName(
            "An embedding service down part way through a large upload leaves no point; the index queue then makes them all")
    void embedderDownPartWayThroughUpload() throws Exception {
        start();
        byte[] text = Files.readAllBytes(temporary(text(WORDS, 3)));
        int chunks = chunks(WORDS);
        server.failAfter(10);

        HttpResponse<Buffer> r = http.upload(tenant, "large.txt", "text/plain", text, null);

        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
        String id = r.bodyAsJsonObject().getString("id");
        // Ten requests of 64 answered: the first two batches of 256 were upserted before the failure.
        assertThat(server.batches()).hasSize(10);
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(file.embedding().pending()).isTrue();
        assertThat(node.stores().vectors().count(tenant, id).await()).isZero();

        server.answerAgain();
        awaitIndexed(id, chunks);
    }

    @Test
    @DisplayName(
            "An embedding service down part way through a large new version leaves it pending without points; the index queue then makes them all")
    void embedderDownPartWayThroughNewVersion() throws Exception {
        // The file's points as its record moves to the new version, before the index job is queued
        // (whose own failed try would remove them all too).
        AtomicReference<Long> atMove = new AtomicReference<>();
        start((op, step) -> op.kind() == IngestOperation.Kind.REPLACE && step == IngestOperation.Step.METADATA_WRITTEN
                ? node.stores().vectors().count(op.tenantId(), op.fileId()).map(n -> {
                    atMove.set(n);
                    return null;
                })
                : Future.succeededFuture());
        HttpResponse<Buffer> r =
                http.upload(tenant, "large.txt", "text/plain", Files.readAllBytes(temporary(text(WORDS, 4))), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        String id = r.bodyAsJsonObject().getString("id");
        assertThat(node.stores().vectors().count(tenant, id).await()).isEqualTo(chunks(WORDS));
        int fewer = WORDS - 60_000;
        server.failAfter(10);

        HttpResponse<Buffer> replaced = http.replace(
                "/api/files/" + id + "/content?user_id=" + tenant,
                "large.txt",
                "text/plain",
                Files.readAllBytes(temporary(text(fewer, 5))),
                null);

        assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isIn(200, 202);
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(file.contentVersion()).isEqualTo(2);
        assertThat(file.embedding().pending()).isTrue();
        assertThat(atMove.get()).isZero();
        assertThat(node.stores().vectors().count(tenant, id).await()).isZero();

        server.answerAgain();
        FileRecord indexed = awaitIndexed(id, chunks(fewer));
        assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                .extracting(ChunkPoint::contentSha256)
                .containsOnly(indexed.sha256());
    }

    @Test
    @DisplayName(
            "A large file whose points were lost is re-embedded by a repair a batch at a time, every chunk counted")
    void repairReembedsALargeFile() throws Exception {
        start();
        HttpResponse<Buffer> r =
                http.upload(tenant, "large.txt", "text/plain", Files.readAllBytes(temporary(text(WORDS, 6))), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        String id = r.bodyAsJsonObject().getString("id");
        node.stores().vectors().deleteFile(tenant, id).await();
        int requests = server.batches().size();
        HttpResponse<Buffer> scanned = http.post(
                "/api/sync/analyze",
                "application/json",
                new JsonObject().put("user_id", tenant).toBuffer());
        assertThat(scanned.bodyAsString()).contains("MISSING_VECTORS");

        HttpResponse<Buffer> started = http.post(
                "/api/sync/fix",
                "application/json",
                new JsonObject().put("user_id", tenant).put("dry_run", false).toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        String opId = started.bodyAsJsonObject().getString("operation_id");
        JsonObject fix = Await.value(
                "fix " + opId + " to end",
                120_000,
                () -> Http.json(http.get("/api/sync/fix/" + opId)),
                body -> !"running".equals(body.getJsonObject("operation").getString("status")));

        assertThat(fix.getJsonObject("operation").getString("status"))
                .as("%s", fix)
                .isEqualTo("completed");
        assertThat(node.stores().vectors().count(tenant, id).await()).isEqualTo(chunks(WORDS));
        assertThat(node.stores().metadata().get(id).await().embedding().chunks())
                .isEqualTo(chunks(WORDS));
        assertThat(server.batches().size() - requests)
                .as("requests of 64 texts that re-embedded it")
                .isEqualTo((chunks(WORDS) + 63) / 64);
    }

    private void start() {
        start(IngestHooks.NONE);
    }

    private void start(IngestHooks hooks) {
        Map<String, String> env = new HashMap<>(server.nodeEnv("large-text-embed"));
        env.put("MONGO_DB", database);
        env.put("EMBEDDING_BATCH_SIZE", "64");
        node = Node.start(TestStack.nodeConfig(env), false, hooks).await();
        http = new Http(node.vertx(), node.httpPort());
    }

    /** Waits until the index queue has made the file's {@code chunks} points and recorded them. */
    private FileRecord awaitIndexed(String id, int chunks) {
        Await.until("the index queue to make the vectors of " + id, 240_000, () -> {
            FileRecord f = node.stores().metadata().get(id).await();
            return !f.embedding().pending();
        });
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(file.embedding().chunks()).isEqualTo(chunks);
        assertThat(node.stores().vectors().count(tenant, id).await()).isEqualTo(chunks);
        return file;
    }

    /** The chunks of a text of {@code words} words: 150 to a chunk, 30 of them shared with the next. */
    static int chunks(int words) {
        return words <= 150 ? 1 : 1 + (words - 150 + 119) / 120;
    }

    /** A text of {@code words} words of 2 to 6 letters, 12 to a line, written to a temporary file. */
    static Path text(int words, long seed) throws IOException {
        Path path = Files.createTempFile(TestStack.tempDir("large-text"), "text-" + seed + "-", ".txt");
        Random random = new Random(seed);
        try (BufferedWriter out = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
            for (int w = 0; w < words; w++) {
                for (int letters = 2 + random.nextInt(5); letters > 0; letters--) {
                    out.write('a' + random.nextInt(26));
                }
                out.write(w % 12 == 11 ? '\n' : ' ');
            }
        }
        return path;
    }

    /** {@code path}, deleted when the JVM exits. */
    private static Path temporary(Path path) {
        path.toFile().deleteOnExit();
        return path;
    }

    /** Removes the tenant's objects: its files and the retained versions (each held in the shared stack's memory). */
    private void removeBlobs(Stores stores) {
        for (String prefix : List.of(tenant + "/", StoreKeys.versionsPrefix(tenant), StoreKeys.stagingPrefix(tenant))) {
            Page<BlobInfo> page;
            do {
                page = stores.blobs()
                        .list(prefix, null, BlobStore.MAX_BATCH_DELETE, false)
                        .await();
                List<String> keys = page.items().stream().map(BlobInfo::key).toList();
                if (!keys.isEmpty()) {
                    stores.blobs().deleteAll(keys).await();
                }
            } while (!page.items().isEmpty());
        }
    }
}
