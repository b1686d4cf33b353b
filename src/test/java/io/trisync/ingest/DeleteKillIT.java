package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.PausingNodeMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A delete sent with {@code If-Match} keeps its condition across a kill -9: a node in a child JVM on
 * the persistent embedded default records the delete and stops right after ({@link PausingNodeMain}
 * at BEGUN), the file is renamed meanwhile (or not), and the node is killed with SIGKILL and started
 * again on the same data. Recovery must not delete a file that changed after the delete was sent for
 * the version before: the rename wins, the operation ends ABORTED, and blob, record and points are all
 * there. Unchanged, or without a condition, the delete is rolled forward: tombstone, no blob, no point.
 */
@Timeout(600)
class DeleteKillIT {

    private static final Pattern PAUSED = Pattern.compile(PausingNodeMain.PAUSED + "(\\S+) AT ");

    /** A round: whether the delete names a version, and whether the file is renamed before the kill. */
    private record Round(boolean conditional, boolean renamed, boolean deleted) {}

    private static final List<Round> ROUNDS =
            List.of(new Round(true, true, false), new Round(true, false, true), new Round(false, true, true));

    private final String tenant = TestStack.unique("delete-kill");

    /** What a round left to be checked after the restart. */
    private record Case(Round round, String fileId, String opId, String sha256) {}

    @Test
    @DisplayName("kill -9 after a conditional delete was recorded: recovery honours If-Match")
    void killAfterConditionalDeleteRecorded() {
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        ChildNode node = new ChildNode(TestStack.tempDir("trisync-delete-kill"), Map.of());
        try {
            Case previous = null;
            for (int i = 0; i < ROUNDS.size(); i++) {
                Round round = ROUNDS.get(i);
                String name = "round" + i + ".txt";
                node.start(120, PausingNodeMain.class.getName(), Map.of("TEST_PAUSE_AT", "DELETE:BEGUN:" + name));
                if (previous != null) {
                    verify(vertx, node, previous);
                }
                byte[] bytes = Fixtures.utf8("Text of " + name + ": " + Fixtures.prose(200));
                String id = upload(web, node, name, bytes);
                String etag = web.get(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                        .send()
                        .await()
                        .getHeader("ETag");
                // The delete stops once recorded and never answers; the kill comes after the rename.
                var delete = web.request(
                        HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant);
                if (round.conditional()) {
                    delete.putHeader("If-Match", etag);
                }
                delete.timeout(120_000).send();
                Await.until(
                        "the delete of " + name + " to stop once recorded", 60_000, () -> PAUSED.matcher(node.logText())
                                .find());
                Matcher paused = PAUSED.matcher(node.logText());
                assertThat(paused.find()).isTrue();
                if (round.renamed()) {
                    HttpResponse<Buffer> renamed = web.request(
                                    HttpMethod.PATCH,
                                    node.httpPort(),
                                    "127.0.0.1",
                                    "/api/files/" + id + "?user_id=" + tenant)
                            .timeout(60_000)
                            .sendJsonObject(new JsonObject().put("name", "renamed-" + name))
                            .await();
                    assertThat(renamed.statusCode()).as(renamed.bodyAsString()).isEqualTo(200);
                }
                node.kill();
                previous = new Case(round, id, paused.group(1), Fixtures.sha256(bytes));
            }
            node.start(120);
            verify(vertx, node, previous);
        } finally {
            node.close();
            web.close();
            vertx.close().await();
        }
    }

    /** After a restart: the round's file wholly deleted, or wholly there as renamed, and the delete ended. */
    private void verify(Vertx vertx, ChildNode node, Case c) {
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            Await.until(
                    "recovery to end the killed delete",
                    60_000,
                    () -> stores.operations().countOpen(tenant).await() == 0);
            String what = "after a kill of " + c.round();
            IngestOperation op = stores.operations().get(c.opId()).await();
            FileRecord record = stores.metadata().get(c.fileId()).await();
            String key = StoreKeys.blobKey(tenant, record.partition(), c.fileId());
            if (c.round().deleted()) {
                assertThat(op.step()).as("delete %s", what).isEqualTo(Step.DONE);
                assertThat(record.status()).as("record %s", what).isEqualTo(FileRecord.Status.DELETED);
                assertThat(stores.blobs()
                                .head(key)
                                .map(found -> true)
                                .recover(error -> error instanceof Failure.NotFound
                                        ? Future.succeededFuture(false)
                                        : Future.failedFuture(error))
                                .await())
                        .as("blob %s", what)
                        .isFalse();
                assertThat(stores.vectors().count(tenant, c.fileId()).await())
                        .as("points %s", what)
                        .isZero();
            } else {
                assertThat(op.step()).as("delete %s", what).isEqualTo(Step.ABORTED);
                assertThat(record.status()).as("record %s", what).isEqualTo(FileRecord.Status.ACTIVE);
                assertThat(record.name()).as("name %s", what).startsWith("renamed-");
                assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                        .as("blob %s", what)
                        .isEqualTo(c.sha256());
                assertThat(stores.vectors().count(tenant, c.fileId()).await())
                        .as("points %s", what)
                        .isEqualTo(record.embedding().chunks())
                        .isPositive();
            }
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
}
