package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.IngestOperation;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Metadata edits without lost updates: {@code PATCH /api/files/{id}} with {@code If-Match} writes
 * over the version the caller saw or fails 412 with the current one; of two concurrent edits with the
 * same {@code If-Match} exactly one wins; bad input is 400 naming the field and changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class FileEditIT {

    private Node node;
    private Http http;
    private WebClient web;
    private final String tenant = TestStack.unique("edit");
    /** A delete that records its operation waits for this promise (once), after completing {@link #reachedDelete}. */
    private final AtomicReference<Promise<Void>> holdDelete = new AtomicReference<>();

    private final AtomicReference<Promise<Void>> reachedDelete = new AtomicReference<>();

    @BeforeAll
    void start() {
        node = Node.start(TestStack.nodeConfig(Map.of()), false, (op, step) -> {
                    Promise<Void> held = holdDelete.get();
                    if (op.kind() == IngestOperation.Kind.DELETE
                            && step == IngestOperation.Step.BEGUN
                            && held != null
                            && holdDelete.compareAndSet(held, null)) {
                        reachedDelete.get().complete();
                        return held.future();
                    }
                    return Future.succeededFuture();
                })
                .await();
        http = new Http(node.vertx(), node.httpPort());
        web = WebClient.create(node.vertx());
    }

    @AfterAll
    void stop() {
        web.close();
        http.close();
        node.stop().await();
    }

    @Test
    @DisplayName(
            "An edit with the current ETag bumps the version; one with a stale ETag is 412 with the current version")
    void conditionalEdit() {
        String id = upload("a.txt");
        var got = http.get("/api/files/" + id + "?user_id=" + tenant);
        String etag = got.getHeader("ETag");
        assertThat(etag).isEqualTo("\"" + got.bodyAsJsonObject().getLong("version") + "\"");

        var edited = patch(id, etag, new JsonObject().put("name", "renamed.txt").put("labels", labels("team", "legal")))
                .await();
        assertThat(edited.statusCode()).as(edited.bodyAsString()).isEqualTo(200);
        JsonObject file = edited.bodyAsJsonObject();
        assertThat(file.getString("name")).isEqualTo("renamed.txt");
        assertThat(file.getJsonObject("labels")).isEqualTo(labels("team", "legal"));
        assertThat(edited.getHeader("ETag"))
                .isEqualTo("\"" + file.getLong("version") + "\"")
                .isNotEqualTo(etag);
        assertThat(node.stores().metadata().get(id).await().labels()).isEqualTo(labels("team", "legal"));

        var stale = patch(id, etag, new JsonObject().put("name", "lost.txt")).await();
        assertThat(stale.statusCode()).as(stale.bodyAsString()).isEqualTo(412);
        assertThat(stale.bodyAsJsonObject().getString("error")).isEqualTo("stale_version");
        assertThat(stale.bodyAsJsonObject().getLong("current_version")).isEqualTo(file.getLong("version"));
        assertThat(node.stores().metadata().get(id).await().name()).isEqualTo("renamed.txt");
    }

    @Test
    @DisplayName(
            "Two concurrent edits with the same If-Match: exactly one succeeds, the other is 412; nothing lost silently")
    void concurrentEdits() {
        for (int round = 0; round < 5; round++) {
            String id = upload("race" + round + ".txt");
            String etag = http.get("/api/files/" + id + "?user_id=" + tenant).getHeader("ETag");
            Future<HttpResponse<Buffer>> one = patch(id, etag, new JsonObject().put("name", "one.txt"));
            Future<HttpResponse<Buffer>> two = patch(id, etag, new JsonObject().put("name", "two.txt"));
            Future.join(one, two).await();
            List<Integer> codes =
                    List.of(one.result().statusCode(), two.result().statusCode());
            assertThat(codes).containsExactlyInAnyOrder(200, 412);
            String winner = (one.result().statusCode() == 200 ? one : two)
                    .result()
                    .bodyAsJsonObject()
                    .getString("name");
            assertThat(node.stores().metadata().get(id).await().name()).isEqualTo(winner);
        }
    }

    @Test
    @DisplayName("Edits that name no version are all applied, one after another, never refused 412; an edit that"
            + " changes nothing writes no version")
    void unconditionalEditsAllApply() {
        String id = upload("free.txt");
        long before = node.stores().metadata().get(id).await().version();
        int n = 24;
        List<Future<HttpResponse<Buffer>>> edits = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            edits.add(patch(id, null, new JsonObject().put("labels", labels("writer", "w" + i))));
        }
        Future.join(edits).await();
        for (Future<HttpResponse<Buffer>> edit : edits) {
            assertThat(edit.result().statusCode())
                    .as(edit.result().bodyAsString())
                    .isEqualTo(200);
        }
        long after = node.stores().metadata().get(id).await().version();
        assertThat(after).isEqualTo(before + n);

        var same = patch(id, null, new JsonObject().put("name", "free.txt")).await();
        assertThat(same.statusCode()).as(same.bodyAsString()).isEqualTo(200);
        assertThat(same.getHeader("ETag")).isEqualTo("\"" + after + "\"");
        assertThat(node.stores().metadata().get(id).await().version()).isEqualTo(after);
    }

    @Test
    @DisplayName("A DELETE with a stale If-Match is 412 with the current version and deletes nothing; with the"
            + " current one it deletes")
    void conditionalDelete() {
        String id = upload("doomed.txt");
        String etag = http.get("/api/files/" + id + "?user_id=" + tenant).getHeader("ETag");
        assertThat(patch(id, etag, new JsonObject().put("name", "doomed-2.txt").put("labels", labels("team", "legal")))
                        .await()
                        .statusCode())
                .isEqualTo(200);
        var stale = delete(id, etag).await();
        assertThat(stale.statusCode()).as(stale.bodyAsString()).isEqualTo(412);
        assertThat(stale.bodyAsJsonObject().getString("error")).isEqualTo("stale_version");
        long current = stale.bodyAsJsonObject().getLong("current_version");
        assertThat(node.stores().metadata().get(id).await().status().wire()).isEqualTo("active");
        assertThat(node.stores().vectors().count(tenant, id).await()).isPositive();

        var done = delete(id, "\"" + current + "\"").await();
        assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
        assertThat(node.stores().metadata().get(id).await().status().wire()).isEqualTo("deleted");
        JsonObject stored = http.get("/api/files/" + id + "?user_id=" + tenant).bodyAsJsonObject();
        assertThat(done.bodyAsJsonObject().getJsonObject("file"))
                .as("the reply shows the record as stored: its labels, its update time")
                .isEqualTo(stored);
        assertThat(stored.getJsonObject("labels")).isEqualTo(labels("team", "legal"));
        var again = delete(id, "\"" + current + "\"").await();
        assertThat(again.statusCode())
                .as("a repeated DELETE gets the same answer")
                .isEqualTo(200);
        assertThat(again.bodyAsJsonObject().getJsonObject("file")).isEqualTo(stored);
    }

    @Test
    @DisplayName("A rename that lands while a DELETE with the older If-Match runs wins: the delete is 412 and"
            + " removes nothing; a DELETE without If-Match in the same race deletes the renamed record")
    void renameDuringConditionalDelete() {
        for (boolean conditional : new boolean[] {true, false}) {
            String id = upload("raced-" + conditional + ".txt");
            String etag = http.get("/api/files/" + id + "?user_id=" + tenant).getHeader("ETag");
            Promise<Void> release = Promise.promise();
            reachedDelete.set(Promise.promise());
            holdDelete.set(release);
            var deleting = conditional
                    ? delete(id, etag)
                    : web.request(
                                    HttpMethod.DELETE,
                                    node.httpPort(),
                                    "127.0.0.1",
                                    "/api/files/" + id + "?user_id=" + tenant)
                            .send();
            reachedDelete.get().future().await();
            var renamed = patch(id, etag, new JsonObject().put("name", "renamed-" + conditional + ".txt"))
                    .await();
            assertThat(renamed.statusCode()).as(renamed.bodyAsString()).isEqualTo(200);
            if (conditional) {
                // A plain DELETE meanwhile does not join a delete sent on a condition it did not name.
                var plain = web.request(
                                HttpMethod.DELETE,
                                node.httpPort(),
                                "127.0.0.1",
                                "/api/files/" + id + "?user_id=" + tenant)
                        .send()
                        .await();
                assertThat(plain.statusCode()).as(plain.bodyAsString()).isEqualTo(409);
                assertThat(plain.bodyAsJsonObject().getString("message")).contains("condition");
            }
            release.complete();
            var answer = deleting.await();
            if (conditional) {
                assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(412);
                assertThat(node.stores().metadata().get(id).await().status().wire())
                        .isEqualTo("active");
                assertThat(node.stores().vectors().count(tenant, id).await()).isPositive();
                assertThat(node.stores().operations().countOpen(tenant).await()).isZero();
            } else {
                assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
                var tombstone = node.stores().metadata().get(id).await();
                assertThat(tombstone.status().wire()).isEqualTo("deleted");
                assertThat(tombstone.name()).isEqualTo("renamed-false.txt");
                assertThat(answer.bodyAsJsonObject().getJsonObject("file"))
                        .as("the reply shows the renamed record it marked")
                        .isEqualTo(http.get("/api/files/" + id + "?user_id=" + tenant)
                                .bodyAsJsonObject());
            }
        }
    }

    @Test
    @DisplayName("Bad input is 400 naming the field and changes nothing")
    void badInput() {
        String id = upload("bad.txt");
        long version = node.stores().metadata().get(id).await().version();
        assertBad(patch(id, "three", new JsonObject().put("name", "x")).await(), "If-Match");
        assertBad(patch(id, null, new JsonObject().put("name", "")).await(), "name");
        assertBad(patch(id, null, new JsonObject().put("name", 5)).await(), "name");
        assertBad(
                patch(id, null, new JsonObject().put("labels", new JsonObject().put("n", 1)))
                        .await(),
                "labels");
        assertBad(patch(id, null, new JsonObject().put("labels", "flat")).await(), "labels");
        // The finding about the value itself, not its parent's "does not match additional properties".
        assertBad(
                patch(id, null, new JsonObject().put("labels", new JsonObject().putNull("gone")))
                        .await(),
                "labels.gone: Instance type null is invalid. Expected string");
        JsonObject many = new JsonObject();
        for (int i = 0; i < 40; i++) {
            many.put("k" + i, "v");
        }
        // The validator words a maxProperties finding as minProperties' ("does not have at least 32").
        assertBad(
                patch(id, null, new JsonObject().put("labels", many)).await(),
                "labels: more than 32 entries (at most 32)");
        assertBad(
                patch(id, null, new JsonObject().put("labels", labels("k", "v".repeat(300))))
                        .await(),
                "labels");
        assertBad(patch(id, null, new JsonObject()).await(), "name");
        assertThat(patch("no-such-file", null, new JsonObject().put("name", "x"))
                        .await()
                        .statusCode())
                .isEqualTo(404);
        assertThat(node.stores().metadata().get(id).await().version()).isEqualTo(version);
        assertThat(node.stores().metadata().get(id).await().name()).isEqualTo("bad.txt");
    }

    private static void assertBad(HttpResponse<Buffer> r, String field) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getString("message"))
                .as("names %s", field)
                .contains(field);
    }

    private static JsonObject labels(String key, String value) {
        return new JsonObject().put(key, value);
    }

    @Test
    @DisplayName("An edit or a new version of a file its tenant deleted is 404 saying it is deleted, as its content"
            + " is; another tenant is still told there is no such file")
    void writesToADeletedFileSaySo() {
        String id = upload("gone.txt");
        assertThat(http.delete("/api/files/" + id + "?user_id=" + tenant).statusCode())
                .isEqualTo(200);
        String deleted = "file " + id + " is deleted";
        var edit = patch(id, null, new JsonObject().put("name", "back.txt")).await();
        assertThat(edit.statusCode()).as(edit.bodyAsString()).isEqualTo(404);
        assertThat(edit.bodyAsJsonObject().getString("message")).isEqualTo(deleted);
        var put = http.replace(
                "/api/files/" + id + "/content?user_id=" + tenant,
                "gone.txt",
                "text/plain",
                Fixtures.utf8("again"),
                null);
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(404);
        assertThat(put.bodyAsJsonObject().getString("message")).isEqualTo(deleted);
        var content = http.get("/api/files/" + id + "/content?user_id=" + tenant);
        assertThat(content.bodyAsJsonObject().getString("message")).isEqualTo(deleted);
        // To another tenant the file is not there, deleted or not: the words for an id never held.
        var other = web.request(
                        HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=someone-else")
                .sendJsonObject(new JsonObject().put("name", "x.txt"))
                .await();
        var never = web.request(
                        HttpMethod.PATCH,
                        node.httpPort(),
                        "127.0.0.1",
                        "/api/files/never-" + id + "?user_id=someone-else")
                .sendJsonObject(new JsonObject().put("name", "x.txt"))
                .await();
        assertThat(other.statusCode()).isEqualTo(404);
        assertThat(other.bodyAsJsonObject().getString("message"))
                .isEqualTo(never.bodyAsJsonObject().getString("message").replace("never-", ""));
        var otherPut = http.replace(
                "/api/files/" + id + "/content?user_id=someone-else",
                "gone.txt",
                "text/plain",
                Fixtures.utf8("x"),
                null);
        assertThat(otherPut.statusCode()).isEqualTo(404);
        assertThat(otherPut.bodyAsJsonObject().getString("message")).doesNotContain("deleted");
    }

    private String upload(String name) {
        var r = http.upload(tenant, name, "text/plain", Fixtures.utf8(Fixtures.prose(30) + name), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private Future<HttpResponse<Buffer>> delete(String id, String ifMatch) {
        return web.request(HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                .putHeader("If-Match", ifMatch)
                .send();
    }

    private Future<HttpResponse<Buffer>> patch(String id, String ifMatch, JsonObject body) {
        var request =
                web.request(HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant);
        if (ifMatch != null) {
            request.putHeader("If-Match", ifMatch);
        }
        return request.sendJsonObject(body);
    }
}
