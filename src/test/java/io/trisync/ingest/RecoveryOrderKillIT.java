package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.PausingNodeMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A recovery sweep ends the operations a dead process left one after another. A new version killed
 * after its commit and before its move used to be rolled forward by embedding its content there and
 * then, so everything behind it waited: found with a few MiB of text, whose embedding held the begun
 * uploads of the same process for a whole sweep interval (their Idempotency-Keys answered 409 "still in
 * progress" the while). Here the embedding service holds every request after the restart, and the
 * next sweep is ten minutes away: the begun upload left by the killed process must still be undone at
 * once, and the new version moved with its vectors queued, made once the service answers.
 */
@Timeout(600)
class RecoveryOrderKillIT {

    @Test
    @DisplayName("kill -9 after a new version's commit: recovery moves it with its vectors queued and undoes the"
            + " process's other work at once, even while the embedding service does not answer")
    void committedVersionDoesNotHoldUpTheSweep() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        EmbeddingServer embedder = new EmbeddingServer(384);
        Map<String, String> env = new HashMap<>(embedder.nodeEnv("recovery-order"));
        // Only the sweep at start recovers within the test.
        env.put("INGEST_RECOVERY_INTERVAL_SECONDS", "600");
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-recovery-order"), env);
        String tenant = TestStack.unique("recovery-order");
        String name = "versioned.txt";
        try {
            node.start(120, PausingNodeMain.class.getName(), Map.of("TEST_PAUSE_AT", "REPLACE:COMMITTED:" + name));
            byte[] before = Fixtures.utf8("Old text. " + Fixtures.prose(200));
            byte[] after = Fixtures.utf8("New text. " + Fixtures.prose(150));
            String id = upload(web, node, tenant, name, before, null)
                    .bodyAsJsonObject()
                    .getString("id");
            replace(web, node, tenant, id, name, after);
            Await.until("the new version to stop after its commit", 60_000, () -> node.logText()
                    .contains(PausingNodeMain.PAUSED));

            // What the process left besides: an upload it had begun (key claimed, nothing stored yet).
            byte[] other = Fixtures.utf8("An upload cut off by the kill.");
            String uploadOp;
            Stores live = Stores.create(vertx, node.storesConfig());
            try {
                IngestOperation replacing = live.operations().openFor(id).await();
                assertThat(replacing.step()).isEqualTo(Step.COMMITTED);
                String fileId = FileIds.next();
                IngestOperation begun = IngestOperation.begin(
                        FileIds.next(),
                        Kind.UPLOAD,
                        tenant,
                        fileId,
                        StoreKeys.partition(fileId, node.storesConfig().sync().partitions()),
                        "other.txt",
                        "text/plain",
                        other.length,
                        Fixtures.sha256(other),
                        "other-key",
                        replacing.nodeId(),
                        replacing.incarnation(),
                        replacing.actor());
                live.operations()
                        .begin(begun.withLease(
                                Steps.uploadHolder(begun), Instant.now().plusSeconds(120)))
                        .await();
                uploadOp = begun.id();
            } finally {
                live.close().await();
            }
            node.kill();

            embedder.hold();
            node.start(120);
            Stores stores = Stores.create(vertx, node.storesConfig());
            try {
                Await.until(
                        "the killed process's begun upload " + uploadOp + " to be undone",
                        30_000,
                        () -> stores.operations().get(uploadOp).await().step() == Step.ABORTED);
                Await.until(
                        "the committed new version to be moved while the embedding service holds its requests",
                        30_000,
                        () -> stores.operations().openFor(id).await() == null);

                embedder.release();
                // The undone upload freed its key: a retry stores the file (it embeds, so after the release).
                HttpResponse<Buffer> retried = upload(web, node, tenant, "other.txt", other, "other-key");
                assertThat(retried.bodyAsJsonObject().getString("sha256")).isEqualTo(Fixtures.sha256(other));
                Await.until(
                        "the new version's vectors to be made by the index queue",
                        90_000,
                        () -> !stores.metadata().get(id).await().embedding().pending());
                FileRecord record = stores.metadata().get(id).await();
                String sha = Fixtures.sha256(after);
                assertThat(record.sha256()).isEqualTo(sha);
                assertThat(Fixtures.sha256(stores.blobs()
                                .getBytes(StoreKeys.blobKey(tenant, record.partition(), id))
                                .await()
                                .getBytes()))
                        .isEqualTo(sha);
                List<ChunkPoint> points = stores.vectors().pointsOf(tenant, id).await();
                assertThat(record.embedding().chunks()).isPositive();
                assertThat(points).hasSize(record.embedding().chunks());
                assertThat(points).allSatisfy(p -> assertThat(p.contentSha256()).isEqualTo(sha));
            } finally {
                stores.close().await();
            }
            JsonObject scan = Http.fullScan(web, node.httpPort(), tenant);
            assertThat(scan.getJsonArray("issues"))
                    .as("issues of a full scan: %s", scan.encode())
                    .isEmpty();
        } finally {
            node.close();
            embedder.close();
            web.close();
            vertx.close().await();
        }
    }

    private static HttpResponse<Buffer> upload(
            WebClient web, ChildNode node, String tenant, String name, byte[] bytes, String key) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(bytes), "text/plain");
        var request = web.post(node.httpPort(), "127.0.0.1", "/api/files").timeout(60_000);
        if (key != null) {
            request.putHeader("Idempotency-Key", key);
        }
        HttpResponse<Buffer> r = request.sendMultipartForm(form).await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isIn(201, 202);
        return r;
    }

    /** Sends the new version without waiting for an answer (the node stops it and is killed). */
    private static void replace(WebClient web, ChildNode node, String tenant, String id, String name, byte[] bytes) {
        MultipartForm form = MultipartForm.create().binaryFileUpload("file", name, Buffer.buffer(bytes), "text/plain");
        web.put(node.httpPort(), "127.0.0.1", "/api/files/" + id + "/content?user_id=" + tenant)
                .timeout(120_000)
                .sendMultipartForm(form);
    }
}
