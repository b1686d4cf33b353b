package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new version of a file survives a kill -9 at every step: a node in a child JVM on the persistent
 * embedded default stops a content update after one step ({@link PausingNodeMain}) and is killed with
 * SIGKILL there, then started again on the same data. The stores, read back with their clients, hold
 * the file wholly as its old version when the kill came before the commit, wholly as the new one from
 * the commit on (blob, record, every point, the history and the retained old content), no staged
 * copy, no unfinished operation, and a full scan of the tenant finds nothing.
 */
@Timeout(600)
class ReplaceKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(ReplaceKillIT.class);

    /** Where each round stops the update, and whether the file must be the new version afterwards. */
    private record Round(Step step, boolean committed) {}

    private static final List<Round> ROUNDS = List.of(
            new Round(Step.BLOB_WRITTEN, false),
            new Round(Step.COMMITTED, true),
            new Round(Step.VECTORS_WRITTEN, true),
            new Round(Step.METADATA_WRITTEN, true));

    private final String tenant = TestStack.unique("replace-kill");

    /** A file of a round: its id and the sha256 of its old and new content. */
    private record Case(Round round, String id, String oldSha, String newSha) {}

    @Test
    @DisplayName("kill -9 at each step of a content update: the file is wholly the old or wholly the new version")
    void killDuringContentUpdate() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-replace-kill"), Map.of());
        try {
            Case previous = null;
            for (int i = 0; i < ROUNDS.size(); i++) {
                Round round = ROUNDS.get(i);
                String name = "round" + i + ".txt";
                node.start(
                        120,
                        PausingNodeMain.class.getName(),
                        Map.of("TEST_PAUSE_AT", "REPLACE:" + round.step() + ":" + name));
                if (previous != null) {
                    verify(vertx, web, node, previous);
                }
                byte[] before = Fixtures.utf8("Old text of " + name + ": " + Fixtures.prose(300));
                byte[] after = Fixtures.utf8("New text of " + name + ": " + Fixtures.prose(120));
                String id = upload(web, node, name, before);
                // The update stops after its step and never answers; the kill comes once it has stopped.
                replace(web, node, id, name, after);
                Await.until("the update of " + name + " to stop after " + round.step(), 60_000, () -> node.logText()
                        .contains(PausingNodeMain.PAUSED));
                node.kill();
                previous = new Case(round, id, Fixtures.sha256(before), Fixtures.sha256(after));
            }
            node.start(120);
            verify(vertx, web, node, previous);
        } finally {
            node.close();
            web.close();
            vertx.close().await();
        }
    }

    /** After a restart: the round's file wholly as the version its kill left, and a clean scan. */
    private void verify(Vertx vertx, WebClient web, ChildNode node, Case c) {
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            Await.until(
                    "recovery to end the killed update",
                    60_000,
                    () -> stores.operations().countOpen(tenant).await() == 0);
            // Recovery moves a committed version with its vectors queued: the index queue makes them.
            Await.until(
                    "the vectors of " + c.id() + " to be made",
                    60_000,
                    () -> !stores.metadata().get(c.id()).await().embedding().pending());
            String sha = c.round().committed() ? c.newSha() : c.oldSha();
            FileRecord record = stores.metadata().get(c.id()).await();
            String what = "after a kill at " + c.round().step();
            assertThat(record.sha256()).as("record %s", what).isEqualTo(sha);
            String key = StoreKeys.blobKey(tenant, record.partition(), c.id());
            assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                    .as("blob %s", what)
                    .isEqualTo(sha);
            List<ChunkPoint> points = stores.vectors().pointsOf(tenant, c.id()).await();
            assertThat(points).as("points %s", what).hasSize(record.embedding().chunks());
            assertThat(record.embedding().chunks()).isPositive();
            assertThat(points).allSatisfy(p -> assertThat(p.contentSha256()).isEqualTo(sha));
            assertThat(stores.blobs()
                            .list(StoreKeys.stagingPrefix(tenant), null, 10, false)
                            .await()
                            .items())
                    .as("staged copies %s", what)
                    .isEmpty();
            List<BlobInfo> retained = stores.blobs()
                    .list(StoreKeys.fileVersionsPrefix(tenant, c.id()), null, 10, true)
                    .await()
                    .items();
            if (c.round().committed()) {
                assertThat(record.history()).as("history %s", what).hasSize(2);
                assertThat(record.history().get(1).sha256()).isEqualTo(c.oldSha());
                assertThat(retained).as("retained old version %s", what).hasSize(1);
                assertThat(retained.get(0).sha256()).isEqualTo(c.oldSha());
                assertThat(retained.get(0).key())
                        .isEqualTo(StoreKeys.versionKey(
                                tenant, c.id(), record.history().get(1).version()));
            } else {
                assertThat(record.history()).as("history %s", what).isEmpty();
                assertThat(retained).as("retained copies %s", what).isEmpty();
            }
            JsonObject scan = Http.fullScan(web, node.httpPort(), tenant);
            assertThat(scan.getJsonArray("issues"))
                    .as("issues of a full scan %s: %s", what, scan.encode())
                    .isEmpty();
            LOG.info(
                    "Kill at {}: file {} is wholly its {} version",
                    c.round().step(),
                    c.id(),
                    c.round().committed() ? "new" : "old");
        } finally {
            stores.close().await();
        }
    }

    private String upload(WebClient web, ChildNode node, String name, byte[] bytes) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(bytes), "text/plain");
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .timeout(60_000)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    /** Sends the new version without waiting for an answer (the node stops it and is killed). */
    private void replace(WebClient web, ChildNode node, String id, String name, byte[] bytes) {
        MultipartForm form = MultipartForm.create().binaryFileUpload("file", name, Buffer.buffer(bytes), "text/plain");
        web.put(node.httpPort(), "127.0.0.1", "/api/files/" + id + "/content?user_id=" + tenant)
                .timeout(120_000)
                .sendMultipartForm(form);
    }
}
