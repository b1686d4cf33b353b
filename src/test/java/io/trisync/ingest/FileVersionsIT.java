package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * New versions of a file's content: {@code PUT /api/files/{id}/content} replaces the bytes, the
 * points and the record together, keeps the old content readable in the history, rejects stale and
 * bad requests naming the field, and (through a hook that fails one step once) is undone when it
 * fails before its commit and completed when it fails after.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class FileVersionsIT {

    private static final String WHALES = "Whales migrate across the ocean every year, singing to each other in the deep"
            + " blue water while krill swarms feed them along the way. ";
    private static final String VOLCANO = "The volcano erupted at dawn and lava flowed down the mountain, burying the"
            + " village roads under black basalt and ash. ";

    private Node node;
    private Http http;
    private WebClient web;
    private final String tenant = TestStack.unique("versions");
    /** Fails the next replacement once after this step, then clears itself. */
    private final AtomicReference<Step> failOnce = new AtomicReference<>();
    /** Holds the next replacement after VECTORS_WRITTEN until this promise completes. */
    private final AtomicReference<Promise<Void>> hold = new AtomicReference<>();

    private final AtomicBoolean held = new AtomicBoolean();

    @BeforeAll
    void start() {
        node = Node.start(TestStack.nodeConfig(Map.of()), false, (op, step) -> {
                    if (op.kind() == IngestOperation.Kind.REPLACE
                            && step == Step.VECTORS_WRITTEN
                            && hold.get() != null) {
                        held.set(true);
                        return hold.getAndSet(null).future();
                    }
                    if (op.kind() == IngestOperation.Kind.REPLACE && failOnce.compareAndSet(step, null)) {
                        // Not a store's failure: the upload breaker stays closed for the next request.
                        return Future.failedFuture(new Failure.Conflict("injected failure after " + step));
                    }
                    return Future.succeededFuture();
                })
                .await();
        http = new Http(node.vertx(), node.httpPort());
        web = WebClient.create(node.vertx());
    }

    @AfterEach
    void noInjectedFailureLeft() {
        failOnce.set(null);
    }

    @AfterAll
    void stop() {
        web.close();
        http.close();
        node.stop().await();
    }

    @Test
    @DisplayName("A new version replaces bytes, points and record; the old one stays readable; a scan finds nothing")
    void newVersion() {
        byte[] before = Fixtures.utf8(WHALES.repeat(12));
        byte[] after = Fixtures.utf8(VOLCANO.repeat(4));
        String id = upload("story.txt", before);
        String etag = http.get(filePath(id)).getHeader("ETag");

        HttpResponse<Buffer> put = http.replace(contentPath(id), "story-v2.txt", "text/plain", after, etag);
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
        JsonObject file = put.bodyAsJsonObject();
        assertThat(file.getString("sha256")).isEqualTo(Fixtures.sha256(after));
        assertThat(file.getLong("size")).isEqualTo(after.length);
        assertThat(file.getString("name"))
                .as("a new version keeps the file's name")
                .isEqualTo("story.txt");
        long version = file.getLong("version");
        assertThat(put.getHeader("ETag")).isEqualTo("\"" + version + "\"").isNotEqualTo(etag);

        assertThat(http.get(contentPath(id)).bodyAsBuffer().getBytes()).isEqualTo(after);
        assertOnlyVersion(id, after);
        JsonArray hits = search("volcano lava eruption");
        assertThat(hits.stream().map(h -> ((JsonObject) h).getString("file_id")))
                .contains(id);
        for (String query : List.of("whales singing in the ocean", "volcano lava eruption")) {
            for (Object hit : search(query)) {
                JsonObject h = (JsonObject) hit;
                if (id.equals(h.getString("file_id"))) {
                    assertThat(VOLCANO.repeat(4)).as("search text of %s", query).contains(h.getString("text"));
                }
            }
        }

        JsonArray versions = http.get("/api/files/" + id + "/versions?user_id=" + tenant)
                .bodyAsJsonObject()
                .getJsonArray("versions");
        assertThat(versions).hasSize(2);
        JsonObject current = versions.getJsonObject(0);
        JsonObject old = versions.getJsonObject(1);
        assertThat(current.getLong("version")).isEqualTo(version);
        assertThat(current.getBoolean("current")).isTrue();
        assertThat(current.getString("sha256")).isEqualTo(Fixtures.sha256(after));
        assertThat(old.getLong("version")).isEqualTo(1);
        assertThat(old.getString("sha256")).isEqualTo(Fixtures.sha256(before));
        assertThat(old.getBoolean("content_available")).isTrue();
        assertThat(old.getString("created_at")).isNotNull();
        assertThat(http.get("/api/files/" + id + "/versions/1/content?user_id=" + tenant)
                        .bodyAsBuffer()
                        .getBytes())
                .isEqualTo(before);
        assertThat(http.get("/api/files/" + id + "/versions/" + version + "/content?user_id=" + tenant)
                        .bodyAsBuffer()
                        .getBytes())
                .isEqualTo(after);
        List<String> types = node.stores().events().ofFile(tenant, id, 50).await().stream()
                .map(Event::type)
                .toList();
        assertThat(types).contains("file.updated");
        assertCleanScan();
    }

    @Test
    @DisplayName("A stale If-Match is 412 with the current version; of two racing updates exactly one wins")
    void staleAndRacing() {
        byte[] before = Fixtures.utf8(WHALES.repeat(3));
        String id = upload("race.txt", before);
        HttpResponse<Buffer> renamed = web.patch(node.httpPort(), "127.0.0.1", filePath(id))
                .putHeader("If-Match", "\"1\"")
                .sendJsonObject(new JsonObject().put("name", "race-renamed.txt"))
                .await();
        assertThat(renamed.statusCode()).as(renamed.bodyAsString()).isEqualTo(200);
        HttpResponse<Buffer> stale =
                http.replace(contentPath(id), "x.txt", "text/plain", Fixtures.utf8(VOLCANO), "\"1\"");
        assertThat(stale.statusCode()).as(stale.bodyAsString()).isEqualTo(412);
        assertThat(stale.bodyAsJsonObject().getString("error")).isEqualTo("stale_version");
        assertThat(stale.bodyAsJsonObject().getLong("current_version")).isEqualTo(2);
        assertOnlyVersion(id, before);

        List<HttpResponse<Buffer>> answers = Future.all(
                        replaceAsync(id, Fixtures.utf8(VOLCANO + "one"), "\"2\""),
                        replaceAsync(id, Fixtures.utf8(VOLCANO + "two"), "\"2\""))
                .await()
                .list();
        List<Integer> codes =
                answers.stream().map(HttpResponse::statusCode).sorted().toList();
        assertThat(codes).as("statuses of two updates over version 2").hasSize(2);
        assertThat(codes.get(0)).isEqualTo(200);
        assertThat(codes.get(1)).isIn(409, 412);
        HttpResponse<Buffer> winner =
                answers.stream().filter(a -> a.statusCode() == 200).findFirst().orElseThrow();
        FileRecord record = node.stores().metadata().get(id).await();
        assertThat(record.sha256()).isEqualTo(winner.bodyAsJsonObject().getString("sha256"));
        assertThat(record.version()).isEqualTo(3);
        assertThat(record.history()).hasSize(2);
    }

    @Test
    @DisplayName("The same bytes again are no new version; a deleted file takes its retained versions with it")
    void sameBytesAndDelete() {
        byte[] before = Fixtures.utf8(WHALES.repeat(2));
        String id = upload("same.txt", before);
        HttpResponse<Buffer> same = http.replace(contentPath(id), "same.txt", "text/plain", before, null);
        assertThat(same.statusCode()).as(same.bodyAsString()).isEqualTo(200);
        assertThat(same.bodyAsJsonObject().getLong("version")).isEqualTo(1);
        assertThat(node.stores().metadata().get(id).await().history()).isEmpty();

        HttpResponse<Buffer> put =
                http.replace(contentPath(id), "same.txt", "text/plain", Fixtures.utf8(VOLCANO), null);
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
        assertThat(retained(id)).hasSize(1);
        // An admin (every caller here: authentication is off) may name no tenant, as for GET, PATCH and DELETE.
        HttpResponse<Buffer> byAdmin =
                http.replace("/api/files/" + id + "/content", "same.txt", "text/plain", before, null);
        assertThat(byAdmin.statusCode()).as(byAdmin.bodyAsString()).isEqualTo(200);
        assertThat(byAdmin.bodyAsJsonObject().getString("user_id")).isEqualTo(tenant);
        assertThat(byAdmin.bodyAsJsonObject().getString("sha256")).isEqualTo(Fixtures.sha256(before));
        assertThat(retained(id)).hasSize(2);
        assertThat(http.delete(filePath(id)).statusCode()).isEqualTo(200);
        assertThat(retained(id)).as("retained versions of a deleted file").isEmpty();
    }

    @Test
    @DisplayName("Bad input is 4xx naming the field and changes nothing")
    void badInput() {
        byte[] before = Fixtures.utf8(WHALES);
        String id = upload("bad.txt", before);
        assertBad(http.replace(contentPath(id), "b.txt", "text/plain", Fixtures.utf8(VOLCANO), "abc"), 400, "If-Match");
        assertBad(http.replace(contentPath(id), null, null, null, null), 400, "file");
        assertBad(http.replace(contentPath(id), "b.txt", "text/plain", new byte[0], null), 400, "file");
        assertBad(
                http.replace(
                        "/api/files/no-such-file/content?user_id=" + tenant,
                        "b.txt",
                        "text/plain",
                        Fixtures.utf8(VOLCANO),
                        null),
                404,
                "no-such-file");
        assertBad(
                http.replace(
                        "/api/files/" + id + "/content?user_id=" + TestStack.unique("other"),
                        "b.txt",
                        "text/plain",
                        Fixtures.utf8(VOLCANO),
                        null),
                404,
                id);
        assertBad(http.get("/api/files/" + id + "/versions/x/content?user_id=" + tenant), 400, "version");
        assertBad(http.get("/api/files/" + id + "/versions/99/content?user_id=" + tenant), 404, "version");
        assertOnlyVersion(id, before);
        assertThat(node.stores().metadata().get(id).await().version()).isEqualTo(1);
    }

    @Test
    @DisplayName("A failure before the commit leaves the old version whole; one after it is completed")
    void failuresAroundTheCommit() {
        byte[] before = Fixtures.utf8(WHALES.repeat(6));
        byte[] after = Fixtures.utf8(VOLCANO.repeat(2));
        String id = upload("fault.txt", before);

        failOnce.set(Step.BLOB_WRITTEN);
        HttpResponse<Buffer> failed = http.replace(contentPath(id), "fault.txt", "text/plain", after, null);
        assertThat(failed.statusCode()).as(failed.bodyAsString()).isEqualTo(409);
        assertThat(failed.bodyAsJsonObject().getString("message")).contains("injected");
        Await.until(
                "the failed update to be undone",
                20_000,
                () -> node.stores().operations().countOpen(tenant).await() == 0);
        assertOnlyVersion(id, before);
        assertThat(retained(id)).as("retained copies of an undone update").isEmpty();
        assertThat(staged()).as("staged copies of an undone update").isEmpty();

        failOnce.set(Step.VECTORS_WRITTEN);
        HttpResponse<Buffer> committed = http.replace(contentPath(id), "fault.txt", "text/plain", after, null);
        assertThat(committed.statusCode()).as(committed.bodyAsString()).isEqualTo(503);
        assertThat(committed.bodyAsJsonObject().getString("message")).contains("committed");
        Await.until(
                "the committed update to be completed",
                30_000,
                () -> node.stores().operations().countOpen(tenant).await() == 0);
        assertOnlyVersion(id, after);
        assertThat(retained(id)).hasSize(1);
        assertThat(staged()).isEmpty();
        assertCleanScan();
    }

    @Test
    @DisplayName("A repair leaves a file alone while a new version of it is being written")
    void repairWaitsForTheUpdate() {
        byte[] before = Fixtures.utf8(WHALES.repeat(4));
        byte[] after = Fixtures.utf8(VOLCANO.repeat(3));
        String id = upload("held.txt", before);
        // A real issue, recorded before the update starts: the file's points lost behind its back.
        node.stores().vectors().deleteFile(tenant, id).await();
        assertThat(fullScan().getJsonArray("issues").stream().map(i -> ((JsonObject) i).getString("file_id")))
                .contains(id);
        Promise<Void> release = Promise.promise();
        hold.set(release);
        Future<HttpResponse<Buffer>> put = replaceAsync(id, after, null);
        Await.until("the update to stop after moving the bytes and points", 20_000, held::get);
        // The key holds the new bytes while the record still names the old ones: a scan leaves the
        // file unjudged (its update finishes it) and keeps the issue it had.
        JsonObject during = fullScan();
        assertThat(during.getJsonArray("issues").stream().map(i -> ((JsonObject) i).getString("file_id")))
                .doesNotContain(id);
        assertThat(during.getJsonObject("summary").getLong("in_flight")).isEqualTo(1);
        assertThat(node.stores().issues().ofFile(tenant, id).await()).isNotEmpty();
        HttpResponse<Buffer> started = http.post(
                "/api/sync/fix",
                "application/json",
                new JsonObject().put("user_id", tenant).put("dry_run", false).toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        String fix = started.bodyAsJsonObject().getString("operation_id");
        JsonObject[] done = {null};
        Await.until("the repair to end", 60_000, () -> {
            done[0] = http.get("/api/sync/fix/" + fix).bodyAsJsonObject();
            return !"running".equals(done[0].getJsonObject("operation").getString("status"));
        });
        List<JsonObject> mine = done[0].getJsonArray("actions").stream()
                .map(a -> (JsonObject) a)
                .filter(a -> id.equals(a.getString("file_id")))
                .toList();
        assertThat(mine).as("repair actions on the file: %s", done[0]).isNotEmpty();
        assertThat(mine).allSatisfy(a -> {
            assertThat(a.getString("status")).isEqualTo("failed");
            assertThat(a.getString("reason")).contains("ingest operation");
        });
        release.complete();
        HttpResponse<Buffer> answer = put.await();
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
        assertOnlyVersion(id, after);
        assertThat(retained(id)).hasSize(1);
        assertCleanScan();
    }

    /** The file's record, blob and every point describe {@code bytes} and nothing else. */
    private void assertOnlyVersion(String id, byte[] bytes) {
        TenantFiles.assertOnlyVersion(node.stores(), tenant, id, bytes);
    }

    private List<String> retained(String id) {
        return TenantFiles.retained(node.stores(), tenant, id);
    }

    private List<String> staged() {
        return TenantFiles.staged(node.stores(), tenant);
    }

    private JsonObject fullScan() {
        return http.post(
                        "/api/sync/analyze",
                        "application/json",
                        new JsonObject()
                                .put("user_id", tenant)
                                .put("mode", "full")
                                .toBuffer())
                .bodyAsJsonObject();
    }

    private void assertCleanScan() {
        HttpResponse<Buffer> scan = http.post(
                "/api/sync/analyze",
                "application/json",
                new JsonObject().put("user_id", tenant).put("mode", "full").toBuffer());
        assertThat(scan.statusCode()).as(scan.bodyAsString()).isEqualTo(200);
        assertThat(scan.bodyAsJsonObject().getJsonArray("issues"))
                .as("issues of a full scan: %s", scan.bodyAsString())
                .isEmpty();
    }

    private JsonArray search(String query) {
        return http.post(
                        "/api/search",
                        "application/json",
                        new JsonObject()
                                .put("user_id", tenant)
                                .put("query", query)
                                .toBuffer())
                .bodyAsJsonObject()
                .getJsonArray("results");
    }

    private static void assertBad(HttpResponse<Buffer> r, int status, String named) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
        assertThat(r.bodyAsJsonObject().getString("message")).contains(named);
    }

    private String upload(String name, byte[] bytes) {
        HttpResponse<Buffer> r = http.upload(tenant, name, "text/plain", bytes, null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private Future<HttpResponse<Buffer>> replaceAsync(String id, byte[] bytes, String ifMatch) {
        var request = web.put(node.httpPort(), "127.0.0.1", contentPath(id));
        if (ifMatch != null) {
            request.putHeader("If-Match", ifMatch);
        }
        return request.sendMultipartForm(
                MultipartForm.create().binaryFileUpload("file", "race.txt", Buffer.buffer(bytes), "text/plain"));
    }

    private String filePath(String id) {
        return "/api/files/" + id + "?user_id=" + tenant;
    }

    private String contentPath(String id) {
        return "/api/files/" + id + "/content?user_id=" + tenant;
    }
}
