package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.events.EventTypes;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a kill -9 leaves of an upload answered 202 {@code completing}: the node (a child JVM on
 * persistent embedded stores) embeds with a service on loopback that holds its answers, so the upload
 * outlives {@code INGEST_ANSWER_WITHIN_SECONDS} and is answered with its id; the node is killed before
 * the upload's operation ends (while its embedding is held, as it is answered, once it committed)
 * and restarted on the same data. The 202 is a promise: the file named in it is whole in all three
 * stores afterwards in every round (an upload cut off before its commit is rolled forward with its
 * embedding pending, and the index queue makes its points), its operation is DONE, and {@code GET} of
 * the id answers 200.
 */
@Timeout(600)
class CompletingKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(CompletingKillIT.class);
    private static final int ROUNDS = 3;

    @Test
    @DisplayName("kill -9 while an upload answered 202 completing is embedding: after the restart the file named in"
            + " the 202 is whole in all three stores, rolled forward when the kill came before its commit")
    void completingUploadSurvivesKill() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        EmbeddingServer embedder = new EmbeddingServer(384);
        Map<String, String> env = nodeEnv(embedder);
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-completing-kill"), env);
        String tenant = TestStack.unique("completing");
        int rolledForward = 0;
        try {
            node.start(120);
            for (int round = 0; round < ROUNDS; round++) {
                embedder.hold();
                String text = "Completing round " + round + ". " + Fixtures.prose(80);
                JsonObject accepted = upload(web, node, tenant, "completing-" + round + ".txt", text);
                assertThat(accepted.getString("status")).isEqualTo("completing");
                assertThat(accepted.getString("sha256")).isEqualTo(Fixtures.sha256(Fixtures.utf8(text)));
                String id = accepted.getString("id");
                String opId = accepted.getString("operation_id");
                if (round == 0) {
                    HttpResponse<Buffer> early = get(web, node, tenant, id);
                    assertThat(early.statusCode()).as(early.bodyAsString()).isEqualTo(404);
                    assertThat(early.bodyAsJsonObject().getString("message"))
                            .contains("still completing (operation " + opId + ")");
                }
                killAt(round, vertx, embedder, web, node, tenant, id, opId);
                embedder.release();

                node.start(120);
                boolean rolled = settle(vertx, web, node, tenant, id, opId, accepted.getString("sha256"));
                if (round == 0) {
                    assertThat(rolled)
                            .as("an upload killed while its embedding was held is rolled forward")
                            .isTrue();
                }
                if (round == 2) {
                    assertThat(rolled).as("an upload killed once it committed").isFalse();
                }
                rolledForward += rolled ? 1 : 0;
            }
            LOG.info(
                    "{} rounds: every upload whole after the restart, {} rolled forward by recovery",
                    ROUNDS,
                    rolledForward);
            JsonObject report = Http.fullScan(web, node.httpPort(), tenant);
            assertThat(report.getJsonArray("issues"))
                    .as("issues a full scan finds after the rounds: %s", report.encode())
                    .isEmpty();
            assertThat(report.getJsonObject("summary").getLong("total_files")).isEqualTo(ROUNDS);
        } finally {
            node.close();
            embedder.close();
            web.close();
            vertx.close().await();
        }
    }

    /** A node that answers 202 completing after a second and recovers within a few seconds. */
    private static Map<String, String> nodeEnv(EmbeddingServer embedder) {
        Map<String, String> env = new HashMap<>(embedder.nodeEnv("completing-kill"));
        env.put("INGEST_ANSWER_WITHIN_SECONDS", "1");
        env.put("INGEST_RECOVERY_INTERVAL_SECONDS", "2");
        env.put("INGEST_RECOVERY_GRACE_SECONDS", "2");
        return env;
    }

    @Test
    @DisplayName("kill -9 while a new version answered 202 completing is embedding: after the restart the file is"
            + " at the new version in all three stores, its points made by the index queue")
    void completingVersionSurvivesKill() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        EmbeddingServer embedder = new EmbeddingServer(384);
        Map<String, String> env = nodeEnv(embedder);
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-completing-version-kill"), env);
        String tenant = TestStack.unique("completing");
        try {
            node.start(120);
            String first = "First version. " + Fixtures.prose(60);
            HttpResponse<Buffer> uploaded = send(web, node, "/api/files", null, tenant, first);
            assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isIn(201, 202);
            String id = uploaded.bodyAsJsonObject().getString("id");
            Await.until(
                    "the first version to show",
                    30_000,
                    () -> get(web, node, tenant, id).statusCode() == 200);

            embedder.hold();
            String second = "Second version. " + Fixtures.prose(80);
            String sha256 = Fixtures.sha256(Fixtures.utf8(second));
            HttpResponse<Buffer> replaced = send(web, node, "/api/files/" + id + "/content", id, tenant, second);
            assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(202);
            JsonObject accepted = replaced.bodyAsJsonObject();
            assertThat(accepted.getString("status")).isEqualTo("completing");
            String opId = accepted.getString("operation_id");
            node.kill();
            embedder.release();

            node.start(120);
            Stores stores = Stores.create(vertx, node.storesConfig());
            try {
                Await.until(
                        "the new version's operation " + opId + " to end after the restart",
                        90_000,
                        () -> stores.operations().get(opId).await().step().terminal());
                IngestOperation op = stores.operations().get(opId).await();
                assertThat(op.step())
                        .as("operation of the new version answered 202")
                        .isEqualTo(IngestOperation.Step.DONE);
                assertThat(op.promisedAt())
                        .as("the 202 recorded on the operation")
                        .isNotNull();
                Await.until(
                        "the points of the new version of " + id + " to be made",
                        90_000,
                        () -> !stores.metadata().get(id).await().embedding().pending());
                FileRecord record = stores.metadata().get(id).await();
                assertThat(record.contentVersion()).isEqualTo(2);
                assertWhole(stores, tenant, id, sha256);
                assertThat(stores.blobs()
                                .head(StoreKeys.versionKey(tenant, id, 1))
                                .await()
                                .sha256())
                        .as("the first version, retained")
                        .isEqualTo(Fixtures.sha256(Fixtures.utf8(first)));
                assertThat(stores.blobs()
                                .list(StoreKeys.stagingPrefix(tenant), null, 10, false)
                                .await()
                                .items())
                        .as("staging objects of the tenant")
                        .isEmpty();
                assertThat(stores.events().ofFile(tenant, id, 20).await().stream()
                                .map(Event::type)
                                .toList())
                        .containsOnlyOnce(EventTypes.FILE_UPDATED, EventTypes.EMBEDDING_PENDING);
            } finally {
                stores.close().await();
            }
            HttpResponse<Buffer> shown = get(web, node, tenant, id);
            assertThat(shown.statusCode()).isEqualTo(200);
            assertThat(shown.bodyAsJsonObject().getString("sha256")).isEqualTo(sha256);
            JsonObject report = Http.fullScan(web, node.httpPort(), tenant);
            assertThat(report.getJsonArray("issues"))
                    .as("issues a full scan finds: %s", report.encode())
                    .isEmpty();
        } finally {
            node.close();
            embedder.close();
            web.close();
            vertx.close().await();
        }
    }

    /** POSTs a new file ({@code fileId} null) or PUTs a new version of {@code fileId}, with {@code text}. */
    private static HttpResponse<Buffer> send(
            WebClient web, ChildNode node, String path, String fileId, String tenant, String text) {
        MultipartForm form = MultipartForm.create();
        if (fileId == null) {
            form.attribute("user_id", tenant);
        }
        form.binaryFileUpload("file", "version.txt", Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        return (fileId == null
                        ? web.post(node.httpPort(), "127.0.0.1", path)
                        : web.put(node.httpPort(), "127.0.0.1", path + "?user_id=" + tenant))
                .sendMultipartForm(form)
                .await();
    }

    /**
     * Kills the node at round {@code round}'s moment: 0, while the embedding is held (nothing
     * committed); 1, as soon as the embedding was answered (the kill races the commit); 2, once
     * {@code GET} shows the file and its operation committed (its end perhaps not recorded yet; the
     * record is written before the commit, so {@code GET} alone does not tell).
     */
    private static void killAt(
            int round,
            Vertx vertx,
            EmbeddingServer embedder,
            WebClient web,
            ChildNode node,
            String tenant,
            String id,
            String opId) {
        if (round > 0) {
            int answered = embedder.requests().size();
            embedder.release();
            Await.until(
                    "the held embedding to be answered",
                    30_000,
                    () -> embedder.requests().size() > answered);
        }
        if (round > 1) {
            Await.until(
                    "the upload to show",
                    30_000,
                    () -> get(web, node, tenant, id).statusCode() == 200);
            Stores stores = Stores.create(vertx, node.storesConfig());
            try {
                Await.until("the upload to commit", 30_000, () -> {
                    IngestOperation.Step step =
                            stores.operations().get(opId).await().step();
                    return step == IngestOperation.Step.COMMITTED || step == IngestOperation.Step.DONE;
                });
            } finally {
                stores.close().await();
            }
        }
        node.kill();
    }

    /**
     * Waits for the upload's operation to end and for its file to be whole in every store (its points
     * made by the index queue when it was rolled forward), and checks that {@code GET} shows it; true
     * when recovery rolled it forward (its embedding was pending), false when its own flow committed it.
     */
    private static boolean settle(
            Vertx vertx, WebClient web, ChildNode node, String tenant, String id, String opId, String sha256) {
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            Await.until(
                    "the upload's operation " + opId + " to end after the restart",
                    90_000,
                    () -> stores.operations().get(opId).await().step().terminal());
            IngestOperation op = stores.operations().get(opId).await();
            assertThat(op.step()).as("operation of the upload answered 202").isEqualTo(IngestOperation.Step.DONE);
            assertThat(op.promisedAt()).as("the 202 recorded on the operation").isNotNull();
            Await.until(
                    "the points of file " + id + " to be made",
                    90_000,
                    () -> !stores.metadata().get(id).await().embedding().pending()
                            && stores.vectors().count(tenant, id).await() > 0);
            for (int i = 0; i < 3; i++) {
                HttpResponse<Buffer> r = get(web, node, tenant, id);
                assertThat(r.statusCode())
                        .as("GET of the id named in the 202: %s", r.bodyAsString())
                        .isEqualTo(200);
            }
            assertWhole(stores, tenant, id, sha256);
            assertThat(stores.blobs()
                            .list(StoreKeys.stagingPrefix(tenant), null, 10, false)
                            .await()
                            .items())
                    .as("staging objects of the tenant")
                    .isEmpty();
            List<String> events = stores.events().ofFile(tenant, id, 20).await().stream()
                    .map(Event::type)
                    .toList();
            assertThat(events).as("events of file %s", id).containsOnlyOnce(EventTypes.FILE_UPLOADED);
            boolean rolled = events.contains(EventTypes.EMBEDDING_PENDING);
            LOG.info("Upload {} after the restart: operation {}, events {}", id, op.step(), events);
            return rolled;
        } finally {
            stores.close().await();
        }
    }

    private static void assertWhole(Stores stores, String tenant, String id, String sha256) {
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.sha256()).isEqualTo(sha256);
        String key = StoreKeys.blobKey(tenant, record.partition(), id);
        assertThat(stores.blobs().head(key).await().sha256()).isEqualTo(sha256);
        assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                .isEqualTo(sha256);
        assertThat(record.embedding().pending()).isFalse();
        assertThat(record.embedding().chunks()).isPositive();
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of the whole upload %s", id)
                .isEqualTo(record.embedding().chunks());
    }

    private static JsonObject upload(WebClient web, ChildNode node, String tenant, String name, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
        return r.bodyAsJsonObject();
    }

    private static HttpResponse<Buffer> get(WebClient web, ChildNode node, String tenant, String id) {
        return web.get(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                .send()
                .await();
    }
}
