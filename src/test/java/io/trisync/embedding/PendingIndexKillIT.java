package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.FileRecord;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Files kept while the embedding service was down (202, vectors pending) survive a kill -9: the node,
 * a child JVM on persistent embedded stores pointed at an OpenAI-compatible server on loopback, is
 * killed with their index jobs queued; restarted on the same data with the service back, it makes
 * every file's vectors, read back with the Qdrant client, and a scan finds nothing wrong.
 */
@Timeout(300)
class PendingIndexKillIT {

    @Test
    @DisplayName("kill -9 with index jobs pending: after the restart every pending file gets its vectors")
    void pendingJobsSurviveKill() throws Exception {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        EmbeddingServer provider = new EmbeddingServer(384);
        Map<String, String> env = new HashMap<>(provider.nodeEnv("kill-test"));
        env.put("EMBEDDING_TIMEOUT_SECONDS", "60");
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-pending-kill"), env);
        String tenant = TestStack.unique("pending-kill");
        try {
            provider.refuse(503);
            node.start(120);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                var r = upload(web, node, tenant, "p" + i + ".txt", Fixtures.prose(120) + " " + i);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
                assertThat(r.bodyAsJsonObject().getString("indexing")).isEqualTo("pending");
                ids.add(r.bodyAsJsonObject().getString("id"));
            }
            // Killed while it holds a job's lease: the provider now holds every request unanswered, so
            // an attempt it has received keeps its job leased (for the 60 s timeout) until the kill.
            provider.delay(600_000);
            provider.refuse(0);
            Stores live = Stores.create(vertx, node.storesConfig());
            try {
                Await.until("an index attempt to be in flight", 30_000, () -> provider.held() > 0);
                assertThat(live.indexQueue().holders(Instant.now()).await())
                        .as("holders of leased jobs while an attempt is in flight")
                        .isNotEmpty();
                node.kill();
            } finally {
                live.close().await();
            }

            provider.delay(0);
            node.start(120);
            // The lease (INGEST_RECOVERY_GRACE_SECONDS, 120 s) is not waited out: the new node finds the
            // killed process gone and takes its jobs back.
            long restarted = System.nanoTime();
            Await.until("every pending file to be indexed after the restart", 90_000, () -> ids.stream()
                    .allMatch(id -> "indexed"
                            .equals(web.get(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                                    .send()
                                    .await()
                                    .bodyAsJsonObject()
                                    .getString("indexing"))));
            long tookMs = (System.nanoTime() - restarted) / 1_000_000;
            System.out.printf("pending files indexed %d ms after the restart%n", tookMs);
            assertThat(tookMs)
                    .as("ms from restart to every file indexed, under the 120 s lease")
                    .isLessThan(60_000);
            assertThat(Files.readString(node.log())).contains("Took back");
            Stores stores = Stores.create(vertx, node.storesConfig());
            try {
                for (String id : ids) {
                    FileRecord file = stores.metadata().get(id).await();
                    assertThat(file.embedding().model()).isEqualTo("kill-test@384");
                    assertThat(stores.vectors().count(tenant, id).await())
                            .as("points of %s", id)
                            .isEqualTo(file.embedding().chunks())
                            .isPositive();
                    assertThat(stores.indexQueue().get(id).await())
                            .as("job of %s", id)
                            .isNull();
                }
            } finally {
                stores.close().await();
            }
            JsonObject report = web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                    .sendJsonObject(new JsonObject().put("user_id", tenant))
                    .await()
                    .bodyAsJsonObject();
            assertThat(report.getJsonArray("issues")).as(report.encode()).isEmpty();
            assertThat(report.getJsonObject("summary").getLong("synced")).isEqualTo(6);
        } finally {
            node.close();
            provider.close();
            web.close();
            vertx.close().await();
        }
    }

    private static HttpResponse<Buffer> upload(WebClient web, ChildNode node, String tenant, String name, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .sendMultipartForm(form)
                .await();
    }
}
