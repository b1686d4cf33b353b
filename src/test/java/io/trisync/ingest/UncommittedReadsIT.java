package io.trisync.ingest;

import static io.trisync.ingest.IngestFaultFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation.Step;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An upload writes its record and its points before it commits, and until the commit an undo (its
 * own, or recovery's after a kill) can still remove them. No reader may see such a file: not a GET,
 * its content, versions or story, not the listing or the tenant's status, not a search; no edit, new
 * version or delete may touch it. Once it commits, all do.
 */
@Timeout(300)
class UncommittedReadsIT {

    private static final String TEXT = "Glaciers carve fjords as they retreat, leaving moraines and hanging valleys. ";

    @Test
    @DisplayName("A file whose upload wrote its record and points but has not committed is seen by no reader until"
            + " it commits")
    void uncommittedUploadIsNotRead() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(TEXT.repeat(20) + Fixtures.prose(100));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(config(), false, pauseAfter(Step.VECTORS_WRITTEN, reached, release, held))
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Future<HttpResponse<Buffer>> upload = uploadAsync(node, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            String fileId = node.stores().operations().get(held.get()).await().fileId();
            // The window this test is about: the record and the points are in the stores.
            assertThat(node.stores().metadata().get(fileId).await().id()).isEqualTo(fileId);
            assertThat(node.stores().vectors().count(tenant, fileId).await()).isPositive();

            HttpResponse<Buffer> get = http.get("/api/files/" + fileId);
            assertThat(get.statusCode()).as(get.bodyAsString()).isEqualTo(404);
            assertThat(get.bodyAsJsonObject().getString("message")).contains("still completing");
            assertThat(http.get("/api/files/" + fileId + "/content").statusCode())
                    .isEqualTo(404);
            assertThat(listed(http, tenant)).doesNotContain(fileId);
            assertThat(found(http, tenant)).doesNotContain(fileId);
            HttpResponse<Buffer> edit = http.patch("/api/files/" + fileId, new JsonObject().put("name", "renamed.txt"));
            assertThat(edit.statusCode()).as(edit.bodyAsString()).isEqualTo(404);
            assertThat(edit.bodyAsString()).contains("still completing");
            assertThat(http.get("/api/files/" + fileId + "/versions").statusCode())
                    .isEqualTo(404);
            HttpResponse<Buffer> story = http.get("/api/files/" + fileId + "/story?user_id=" + tenant);
            assertThat(story.statusCode()).as(story.bodyAsString()).isEqualTo(404);
            assertThat(story.bodyAsString()).contains("still completing");
            HttpResponse<Buffer> status = http.get("/api/sync/status/" + tenant);
            assertThat(status.statusCode()).isEqualTo(200);
            assertThat(status.bodyAsString()).doesNotContain(fileId);
            // The same bytes as a new version: not "already holds them" for a file not there yet.
            HttpResponse<Buffer> same = http.replace(
                    "/api/files/" + fileId + "/content?user_id=" + tenant, "doc.txt", "text/plain", bytes, null);
            assertThat(same.statusCode()).as(same.bodyAsString()).isEqualTo(404);
            assertThat(same.bodyAsString()).contains("still completing");
            // Another tenant learns nothing: its answers read as for an id that never existed.
            String other = TestStack.unique("t");
            for (String path : List.of("/api/files/%s?user_id=" + other, "/api/files/%s/story?user_id=" + other)) {
                HttpResponse<Buffer> theirs = http.get(path.formatted(fileId));
                HttpResponse<Buffer> none = http.get(path.formatted(FileIds.next()));
                assertThat(theirs.statusCode()).isEqualTo(404);
                assertThat(theirs.bodyAsJsonObject().getString("message"))
                        .isEqualTo(none.bodyAsJsonObject().getString("message").replaceAll("[0-9a-f-]{36}", fileId));
            }
            HttpResponse<Buffer> delete = http.delete("/api/files/" + fileId + "?user_id=" + tenant);
            assertThat(delete.statusCode()).as(delete.bodyAsString()).isEqualTo(404);
            assertThat(delete.bodyAsString()).contains("still completing");

            node.vertx().runOnContext(v -> release.complete());
            HttpResponse<Buffer> answer = upload.await();
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(201);
            HttpResponse<Buffer> after = http.get("/api/files/" + fileId);
            assertThat(after.statusCode()).as(after.bodyAsString()).isEqualTo(200);
            assertThat(after.bodyAsJsonObject().getString("name"))
                    .as("the edit refused while uploading changed nothing")
                    .isEqualTo("doc.txt");
            assertThat(http.get("/api/files/" + fileId + "/content")
                            .bodyAsBuffer()
                            .getBytes())
                    .isEqualTo(bytes);
            assertThat(listed(http, tenant)).containsExactly(fileId);
            assertThat(found(http, tenant)).contains(fileId);
            assertThat(http.get("/api/files/" + fileId + "/story?user_id=" + tenant)
                            .statusCode())
                    .isEqualTo(200);
            assertThat(http.get("/api/sync/status/" + tenant).bodyAsString()).contains(fileId);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Before its record is written, a file being uploaded is answered \"still completing\" by GET, PATCH,"
            + " a new version and DELETE to its own tenant, and as an unknown id to another")
    void fileNotWrittenYetIsStillCompleting() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(TEXT + Fixtures.prose(40));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(config(), false, pauseAfter(Step.BLOB_WRITTEN, reached, release, held))
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Future<HttpResponse<Buffer>> upload = uploadAsync(node, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            String opId = held.get();
            String fileId = node.stores().operations().get(opId).await().fileId();
            // The window this test is about: the blob is in S3, no record yet.
            assertThat(node.stores()
                            .metadata()
                            .get(fileId)
                            .transform(read -> Future.succeededFuture(read.cause()))
                            .await())
                    .as("the record, not written yet")
                    .isInstanceOf(Failure.NotFound.class);

            String own = "?user_id=" + tenant;
            List<HttpResponse<Buffer>> answers = List.of(
                    http.get("/api/files/" + fileId + own),
                    http.patch("/api/files/" + fileId + own, new JsonObject().put("name", "renamed.txt")),
                    http.replace("/api/files/" + fileId + "/content" + own, "doc.txt", "text/plain", bytes, null),
                    http.delete("/api/files/" + fileId + own));
            for (HttpResponse<Buffer> answer : answers) {
                assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(404);
                assertThat(answer.bodyAsJsonObject().getString("message"))
                        .isEqualTo("no file " + fileId + " yet: its upload is still completing (operation " + opId
                                + "); it is shown once it commits");
            }
            String other = "?user_id=" + TestStack.unique("t");
            String unknown = FileIds.next();
            assertThat(message(http.delete("/api/files/" + fileId + other)))
                    .isEqualTo(message(http.delete("/api/files/" + unknown + other))
                            .replace(unknown, fileId));
            assertThat(message(http.patch("/api/files/" + fileId + other, new JsonObject().put("name", "x.txt"))))
                    .isEqualTo(
                            message(http.patch("/api/files/" + unknown + other, new JsonObject().put("name", "x.txt")))
                                    .replace(unknown, fileId));

            node.vertx().runOnContext(v -> release.complete());
            HttpResponse<Buffer> answer = upload.await();
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(201);
            HttpResponse<Buffer> after = http.get("/api/files/" + fileId + own);
            assertThat(after.statusCode()).as(after.bodyAsString()).isEqualTo(200);
            assertThat(after.bodyAsJsonObject().getString("name"))
                    .as("the edit refused while uploading changed nothing")
                    .isEqualTo("doc.txt");
        } finally {
            node.stop().await();
        }
    }

    private static String message(HttpResponse<Buffer> answer) {
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(404);
        return answer.bodyAsJsonObject().getString("message");
    }

    private static List<String> listed(Http http, String tenant) {
        HttpResponse<Buffer> page = http.get("/api/files?user_id=" + tenant);
        assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
        return ids(page.bodyAsJsonObject().getJsonArray("files"), "id");
    }

    private static List<String> found(Http http, String tenant) {
        HttpResponse<Buffer> answer = http.post(
                "/api/search",
                "application/json",
                new JsonObject()
                        .put("user_id", tenant)
                        .put("query", "glaciers carving fjords")
                        .toBuffer());
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
        return ids(answer.bodyAsJsonObject().getJsonArray("results"), "file_id");
    }

    private static List<String> ids(JsonArray items, String field) {
        return items.stream().map(o -> ((JsonObject) o).getString(field)).toList();
    }
}
