package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.LoadUntilKill;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash safety proven by killing a real process: a node in a child JVM on the persistent embedded
 * default takes concurrent uploads and deletes and is killed with SIGKILL at a different moment in
 * each round, then started again on the same data. After every restart the test reads the three
 * stores with their clients: every acknowledged upload is complete, every acknowledged delete is
 * gone from all three, recovery has left no ingest operation unfinished, and a full scan of the
 * tenant finds nothing.
 */
@Timeout(600)
class IngestCrashIT {

    private static final Logger LOG = LoggerFactory.getLogger(IngestCrashIT.class);
    /**
     * Each round kills the node once it has acknowledged this many more uploads and at least one
     * delete, while the other clients' requests are in flight: the moment varies with the count, not
     * with a clock, so a slow machine shifts it without emptying a round. (Counting uploads alone left
     * a CI run with no delete acknowledged in any round: batched uploads reached the count before a
     * delete was answered.)
     */
    private static final int[] KILL_AFTER_ACKS = {3, 5, 7, 9, 11};

    private static final int CONCURRENCY = 8;

    private static Vertx vertx;
    private static WebClient web;
    private static ChildNode node;
    private final String tenant = TestStack.unique("crash");
    /** Uploads answered 201, by file id: their sha256. */
    private final Map<String, String> uploaded = new ConcurrentHashMap<>();
    /** Deletes answered 200 or 202. */
    private final Set<String> deleted = ConcurrentHashMap.newKeySet();
    /** Deletes sent and never answered: the file may be there or not. */
    private final Set<String> deleteUnknown = ConcurrentHashMap.newKeySet();

    private final Random random = new Random(7);

    @BeforeAll
    static void startClient() {
        vertx = Vertx.vertx();
        web = WebClient.create(vertx, new WebClientOptions().setIdleTimeout(20));
        Path data = TestStack.tempDir("trisync-crash");
        node = new ChildNode(data, Map.of("INGEST_RECOVERY_INTERVAL_SECONDS", "5"));
    }

    @AfterAll
    static void stop() {
        node.close();
        web.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("Five kill -9 rounds during concurrent uploads and deletes lose nothing acknowledged")
    void killDuringUploadsAndDeletes() {
        int acknowledgedUploads = 0;
        for (int killAfter : KILL_AFTER_ACKS) {
            node.start(120);
            verifyAfterRestart();
            int before = uploaded.size();
            runLoadAndKill(killAfter);
            acknowledgedUploads += uploaded.size() - before;
            LOG.info(
                    "Round killed after {} acknowledged uploads: {} uploads and {} deletes acknowledged so far",
                    killAfter,
                    uploaded.size(),
                    deleted.size());
        }
        node.start(120);
        verifyAfterRestart();
        assertThat(acknowledgedUploads)
                .as("uploads acknowledged across the rounds")
                .isGreaterThan(20);
        assertThat(deleted).as("deletes acknowledged across the rounds").isNotEmpty();
        assertThat(recoveredOperations())
                .as("operations the kills left unfinished and a restarted node's recovery ended")
                .isPositive();
        node.kill();
    }

    /**
     * Load from {@link #CONCURRENCY} clients until the node has acknowledged {@code killAfterAcks}
     * more uploads and one more delete, then kill it.
     */
    private void runLoadAndKill(int killAfterAcks) {
        int before = uploaded.size();
        int deletedBefore = deleted.size();
        LoadUntilKill.run(
                vertx,
                CONCURRENCY,
                this::nextRequest,
                killAfterAcks + " acknowledged uploads and one acknowledged delete",
                120_000,
                () -> uploaded.size() - before >= killAfterAcks && deleted.size() > deletedBefore,
                node::kill);
    }

    /** A delete of an acknowledged file one time in four, else an upload. */
    private Future<?> nextRequest() {
        List<String> deletable = uploaded.keySet().stream()
                .filter(id -> !deleted.contains(id) && !deleteUnknown.contains(id))
                .toList();
        return !deletable.isEmpty() && random.nextInt(4) == 0
                ? delete(deletable.get(random.nextInt(deletable.size())))
                : upload();
    }

    private Future<?> upload() {
        byte[] bytes = Fixtures.utf8(Fixtures.prose(40 + random.nextInt(200)) + " " + UUID.randomUUID());
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(bytes), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .timeout(15_000)
                .sendMultipartForm(form)
                .onSuccess(r -> {
                    if (r.statusCode() == 201) {
                        // The sha256 of the bytes sent, not the one answered: the stores must hold these.
                        uploaded.put(r.bodyAsJsonObject().getString("id"), Fixtures.sha256(bytes));
                    }
                });
    }

    private Future<?> delete(String fileId) {
        deleteUnknown.add(fileId);
        return web.delete(node.httpPort(), "127.0.0.1", "/api/files/" + fileId + "?user_id=" + tenant)
                .timeout(15_000)
                .send()
                .onSuccess(r -> {
                    if (acknowledgedDelete(r)) {
                        deleted.add(fileId);
                        deleteUnknown.remove(fileId);
                    }
                });
    }

    private static boolean acknowledgedDelete(HttpResponse<Buffer> r) {
        return r.statusCode() == 200 || r.statusCode() == 202;
    }

    /** What survived the last kill, read with the stores' own clients, then a full scan. */
    private void verifyAfterRestart() {
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            Await.until(
                    "recovery to end every unfinished ingest operation",
                    60_000,
                    () -> stores.operations().countOpen(tenant).await() == 0);
            int present = 0;
            for (var entry : uploaded.entrySet()) {
                String id = entry.getKey();
                if (deleted.contains(id)) {
                    assertGone(stores, id);
                } else if (!deleteUnknown.contains(id)) {
                    assertComplete(stores, id, entry.getValue());
                    present++;
                }
            }
            JsonObject report = analyze();
            assertThat(report.getJsonArray("issues"))
                    .as("issues found by a full scan after the restart: %s", report.encode())
                    .isEmpty();
            LOG.info(
                    "After restart: {} acknowledged uploads complete, {} acknowledged deletes gone, scan of {} files clean",
                    present,
                    deleted.size(),
                    report.getJsonObject("summary").getLong("total_files"));
        } finally {
            stores.close().await();
        }
    }

    private void assertComplete(Stores stores, String id, String sha256) {
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).as("metadata of acknowledged upload %s", id).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.sha256()).isEqualTo(sha256);
        String key = StoreKeys.blobKey(record.tenantId(), record.partition(), id);
        assertThat(stores.blobs().head(key).await().sha256())
                .as("blob of acknowledged upload %s", id)
                .isEqualTo(sha256);
        assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                .isEqualTo(sha256);
        int chunks = record.embedding().chunks();
        assertThat(chunks).isPositive();
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of acknowledged upload %s", id)
                .isEqualTo(chunks);
        // Answered once its events were logged, its end recorded after: a kill in between leaves the
        // end to recovery, which must not log them again.
        assertThat(stores.events().ofFile(tenant, id, 50).await())
                .as("file.uploaded events of acknowledged upload %s", id)
                .filteredOn(event -> "file.uploaded".equals(event.type()))
                .hasSize(1);
    }

    private void assertGone(Stores stores, String id) {
        FileRecord record = stores.metadata()
                .get(id)
                .otherwise(e -> {
                    assertThat(e).isInstanceOf(Failure.NotFound.class);
                    return null;
                })
                .await();
        if (record != null) {
            assertThat(record.status()).as("metadata of deleted %s", id).isEqualTo(FileRecord.Status.DELETED);
        }
        String key = StoreKeys.blobKey(tenant, StoreKeys.partition(id, 64), id);
        Throwable head = stores.blobs()
                .head(key)
                .map(b -> (Throwable) null)
                .otherwise(e -> e)
                .await();
        assertThat(head).as("blob of deleted %s", id).isInstanceOf(Failure.NotFound.class);
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of deleted %s", id)
                .isZero();
        // A kill between a delete's events and its end leaves the end to recovery, which must not log
        // them again.
        assertThat(stores.events().ofFile(tenant, id, 50).await())
                .as("file.deleted events of acknowledged delete %s", id)
                .filteredOn(event -> "file.deleted".equals(event.type()))
                .hasSize(1);
    }

    /** Ingest operations of the tenant that recovery claimed (each claim counts on the operation). */
    private long recoveredOperations() {
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(node.storesConfig().mongo()));
        try {
            return mongo.count(
                            "ingest_ops",
                            new JsonObject().put("tenantId", tenant).put("claims", new JsonObject().put("$gte", 1)))
                    .await();
        } finally {
            mongo.close().await();
        }
    }

    private JsonObject analyze() {
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .timeout(120_000)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("mode", "full"))
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }
}
