package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A tenant erasure survives a kill -9: the node (a child JVM on persistent embedded stores) is killed
 * while it removes the tenant's blobs, restarted on the same data, and finishes the erasure by itself;
 * the stores, read with their clients, then hold nothing of the tenant and everything of another,
 * and the erasure's report counts what both runs removed.
 */
@Timeout(300)
class EraseKillIT {

    private static final int FILES = 40;

    @Test
    @DisplayName("kill -9 while an erasure removes blobs: the restarted node finishes it, and its report counts"
            + " what both runs removed")
    void erasureSurvivesKill() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        // Heartbeats every 2 s and a monitor every 5 s: the killed node's erase operation is failed
        // within seconds of the restart, and the erasure resumed. One object per page of deletes, so
        // the kill lands while blobs are being removed.
        ChildNode node = new ChildNode(
                TestStack.tempDir("trisync-erase-kill"),
                Map.of(
                        "SYNC_HEARTBEAT_INTERVAL_SECONDS",
                        "2",
                        "SYNC_CLEANUP_INTERVAL_SECONDS",
                        "5",
                        "SYNC_BATCH_SIZE",
                        "1"));
        try {
            node.start(120);
            String gone = TestStack.unique("erase-kill");
            String kept = TestStack.unique("keep");
            for (int i = 0; i < FILES; i++) {
                upload(web, node, gone, "g" + i + ".txt");
            }
            upload(web, node, kept, "k.txt");
            var accepted = web.delete(node.httpPort(), "127.0.0.1", "/api/tenants/" + gone)
                    .send()
                    .await();
            assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
            long removedBeforeKill = blobsRemovedSoon(web, node, gone);
            node.kill();
            assertThat(removedBeforeKill)
                    .as("blobs the first run had removed when it was killed")
                    .isBetween(1L, (long) FILES - 1);

            node.start(120);
            Await.until("the restarted node to finish the erasure", 150_000, () -> "erased"
                    .equals(web.get(node.httpPort(), "127.0.0.1", "/api/tenants/" + gone)
                            .send()
                            .await()
                            .bodyAsJsonObject()
                            .getString("state")));
            Stores stores = Stores.create(vertx, node.storesConfig());
            try {
                assertThat(stores.metadata()
                                .count(new FileQuery(gone, null, null))
                                .await())
                        .isZero();
                assertThat(stores.blobs()
                                .list(gone + "/", null, 10, false)
                                .await()
                                .items())
                        .isEmpty();
                assertThat(stores.vectors().scroll(gone, null, null, 10).await().items())
                        .isEmpty();
                assertThat(stores.metadata()
                                .count(new FileQuery(kept, null, null))
                                .await())
                        .isEqualTo(1);
                assertThat(stores.blobs()
                                .list(kept + "/", null, 10, false)
                                .await()
                                .items())
                        .hasSize(1);
                assertThat(stores.vectors().scroll(kept, null, null, 10).await().items())
                        .hasSize(1);
            } finally {
                stores.close().await();
            }
            JsonObject erasure = web.get(node.httpPort(), "127.0.0.1", "/api/tenants/" + gone)
                    .send()
                    .await()
                    .bodyAsJsonObject();
            JsonObject result = erasure.getJsonObject("result");
            assertThat(result.getBoolean("verified")).isTrue();
            // Counted across both runs: the resumed one alone found fewer blobs and no records.
            assertThat(result.getLong("blobs")).as(result.encode()).isEqualTo(FILES);
            assertThat(result.getJsonObject("records").getLong("files"))
                    .as(result.encode())
                    .isEqualTo(FILES);
            assertThat(result.getJsonObject("records").getLong("ingest_ops"))
                    .as(result.encode())
                    .isEqualTo(FILES);
            // The kill cut the first run off: a second operation (the resumed one) finished it.
            assertThat(erasure.getString("operation_id"))
                    .as("the erasure was resumed after the restart")
                    .isNotEqualTo(accepted.bodyAsJsonObject().getString("id"));
        } finally {
            node.close();
            web.close();
            vertx.close().await();
        }
    }

    /**
     * Polls the erasure closely (its pages go fast) until it has counted removed blobs; answers how
     * many it had counted.
     */
    private static long blobsRemovedSoon(WebClient web, ChildNode node, String tenant) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            JsonObject erasure = web.get(node.httpPort(), "127.0.0.1", "/api/tenants/" + tenant)
                    .send()
                    .await()
                    .bodyAsJsonObject();
            long removed = erasure.getJsonObject("removed", new JsonObject()).getLong("blobs", 0L);
            if (removed > 0) {
                return removed;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the erasure removed no blob within 30 s");
    }

    private static void upload(WebClient web, ChildNode node, String tenant, String name) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(Fixtures.prose(20) + name)), "text/plain");
        var r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    }
}
