package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.MongoMetadataStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * End to end: an ingest operation (MongoDB {@code ingest_ops}) edited by hand with the raw MongoDB client,
 * then every read of the file's operations: its story, its versions, the not-found of its lost record,
 * a scan's judgement of its orphan content, a fix, a delete.
 */
@Timeout(300)
class HandEditedOperationsIT {

    /** One hand edit of a file's operation; {@code field}: the field it makes unreadable. */
    private record Edit(String field, JsonObject update) {}

    private static final List<Edit> EDITS = List.of(
            new Edit("kind", new JsonObject().put("$set", new JsonObject().put("kind", "ARCHIVE"))),
            new Edit("step", new JsonObject().put("$set", new JsonObject().put("step", 3))),
            new Edit("createdAt", new JsonObject().put("$unset", new JsonObject().put("createdAt", ""))),
            new Edit("size", new JsonObject().put("$set", new JsonObject().put("size", "big"))),
            new Edit("actor", new JsonObject().put("$set", new JsonObject().put("actor", "x"))));

    /** A file uploaded for {@code tenant}, once its upload's operation has ended (else its end would write over an edit). */
    private static String upload(Http http, MongoClient raw, String tenant) {
        var up = http.upload(tenant, "a.txt", "text/plain", utf8("The tide table. " + Fixtures.prose(40)), null);
        assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(201);
        String id = up.bodyAsJsonObject().getString("id");
        Await.value(
                "the upload's operation to end",
                30_000,
                () -> raw.findOne("ingest_ops", new JsonObject().put("fileId", id), null)
                        .await(),
                op -> op != null && "DONE".equals(op.getString("step")));
        return id;
    }

    private static HttpResponse<Buffer> post(Http http, String path, JsonObject body) {
        return http.post(path, "application/json", Buffer.buffer(body.encode()));
    }

    /** The story's timeline entries of the file's ingest operations. */
    private static List<JsonObject> ingestTimeline(Http http, String id, String tenant, String what) {
        var story = http.get("/api/files/" + id + "/story?user_id=" + tenant);
        assertThat(story.statusCode()).as(what + ": " + story.bodyAsString()).isEqualTo(200);
        return story.bodyAsJsonObject().getJsonArray("timeline").stream()
                .map(JsonObject.class::cast)
                .filter(e -> "ingest".equals(e.getString("source")))
                .toList();
    }

    @Test
    @DisplayName("A file's operation edited by hand (a kind never written, a step that is a number, its date removed,"
            + " a size that is text, an actor that is text) is shown in the file's story as unreadable naming the field;"
            + " its versions are listed; once its record is lost the not-found names the operation and the field, a"
            + " scan reports the orphan content with its restore refused naming them, and a fix restores nothing")
    void handEditedOperationIsShownNotFatal() {
        Node node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            for (Edit edit : EDITS) {
                String what = edit.field() + " " + edit.update().encode();
                String tenant = TestStack.unique("opedit");
                String id = upload(http, raw, tenant);
                String q = "?user_id=" + tenant;
                raw.updateCollection("ingest_ops", new JsonObject().put("fileId", id), edit.update())
                        .await();

                List<JsonObject> ops = ingestTimeline(http, id, tenant, what);
                assertThat(ops).as(what).hasSize(1);
                assertThat(ops.get(0).getString("type")).as(what).isEqualTo("unreadable");
                assertThat(ops.get(0).getString("unreadable")).as(what).isEqualTo(edit.field());
                assertThat(ops.get(0).getString("message")).as(what).contains(id, "field " + edit.field());
                var versions = http.get("/api/files/" + id + "/versions" + q);
                assertThat(versions.statusCode())
                        .as(what + ": " + versions.bodyAsString())
                        .isEqualTo(200);
                assertThat(versions.bodyAsJsonObject().getJsonArray("versions"))
                        .as(what)
                        .hasSize(1);
                // A new version reads the file's upload for who made the first one: none known, not a 500.
                var replaced = http.replace(
                        "/api/files/" + id + "/content" + q, "a.txt", "text/plain", utf8("The new tide table."), null);
                assertThat(replaced.statusCode())
                        .as(what + ": " + replaced.bodyAsString())
                        .isIn(200, 202);
                Await.value(
                        "the new version's operation to end",
                        30_000,
                        () -> raw.find(
                                        "ingest_ops",
                                        new JsonObject().put("fileId", id).put("terminal", false))
                                .await(),
                        List::isEmpty);

                // The record lost behind trisync's back: the log cannot say its upload was the last word.
                raw.removeDocument("files", new JsonObject().put("_id", id)).await();
                var get = http.get("/api/files/" + id + q);
                assertThat(get.statusCode())
                        .as(what + ": " + get.bodyAsString())
                        .isEqualTo(404);
                assertThat(get.bodyAsJsonObject().getString("message"))
                        .as(what)
                        .contains(id, "field " + edit.field())
                        .doesNotContain("RESTORE_RECORD");
                var report = post(
                        http,
                        "/api/sync/analyze",
                        new JsonObject().put("user_id", tenant).put("mode", "full"));
                assertThat(report.statusCode())
                        .as(what + ": " + report.bodyAsString())
                        .isEqualTo(200);
                JsonObject orphan = report.bodyAsJsonObject().getJsonArray("issues").stream()
                        .map(JsonObject.class::cast)
                        .filter(i -> "ORPHAN_BLOB".equals(i.getString("type")))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(what + ": " + report.bodyAsString()));
                assertThat(orphan.getJsonObject("details")
                                .getJsonObject("restore")
                                .getString("refused"))
                        .as(what)
                        .contains("field " + edit.field());
                var fix = post(
                        http,
                        "/api/sync/fix",
                        new JsonObject().put("user_id", tenant).put("dry_run", true));
                assertThat(fix.statusCode())
                        .as(what + ": " + fix.bodyAsString())
                        .isEqualTo(200);
                assertThat(fix.bodyAsJsonObject()
                                .getJsonObject("counts")
                                .getJsonObject("by_action")
                                .getMap())
                        .as(what + ": " + fix.bodyAsString())
                        .doesNotContainKey("RESTORE_RECORD")
                        .isNotEmpty();
            }
        } finally {
            raw.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("An unfinished operation edited by hand (a kind never written) holds its file: a delete and a"
            + " PATCH are 409 naming it and the field, the story shows it as unreadable, and recovery passes it by")
    void unfinishedHandEditedOperationHoldsItsFile() {
        Node node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("opedit");
            String id = upload(http, raw, tenant);
            String q = "?user_id=" + tenant;
            // A copy of its upload, unfinished, its kind one trisync never writes.
            JsonObject done = raw.findOne("ingest_ops", new JsonObject().put("fileId", id), null)
                    .await();
            String opId = "hand-" + id;
            raw.insert(
                            "ingest_ops",
                            done.copy()
                                    .put("_id", opId)
                                    .put("kind", "ARCHIVE")
                                    .put("step", "BEGUN")
                                    .put("terminal", false)
                                    .put("openFile", id))
                    .await();

            var delete = http.delete("/api/files/" + id + q);
            assertThat(delete.statusCode()).as(delete.bodyAsString()).isEqualTo(409);
            assertThat(delete.bodyAsJsonObject().getString("message")).contains(opId, "field kind");
            // What it does to the file cannot be told, so its name is not written over either.
            var patch = http.patch("/api/files/" + id + q, new JsonObject().put("name", "b.txt"));
            assertThat(patch.statusCode()).as(patch.bodyAsString()).isEqualTo(409);
            assertThat(patch.bodyAsJsonObject().getString("message")).contains(opId, "field kind");
            assertThat(ingestTimeline(http, id, tenant, "story").stream()
                            .map(e -> e.getString("type"))
                            .toList())
                    .containsExactlyInAnyOrder("upload done", "unreadable");
            var get = http.get("/api/files/" + id + q);
            assertThat(get.statusCode()).as(get.bodyAsString()).isEqualTo(200);
            assertThat(get.bodyAsJsonObject().getString("name")).isEqualTo("a.txt");
            assertThat(raw.findOne("ingest_ops", new JsonObject().put("_id", opId), null)
                            .await()
                            .getString("kind"))
                    .as("left as the person left it")
                    .isEqualTo("ARCHIVE");
            // A new version cannot begin while it holds the file; no retry outlasts it: said so.
            var replace = http.replace(
                    "/api/files/" + id + "/content" + q, "a.txt", "text/plain", utf8("Another tide."), null);
            assertThat(replace.statusCode()).as(replace.bodyAsString()).isEqualTo(409);
            assertThat(replace.bodyAsJsonObject().getString("message")).contains(opId, "field kind");

            // A file whose upload is still open (an operation holds it, as while completing) and whose step
            // was edited by hand: not found yet, as any file still completing (a 500 before).
            String other = upload(http, raw, tenant);
            JsonObject otherDone = raw.findOne("ingest_ops", new JsonObject().put("fileId", other), null)
                    .await();
            raw.insert(
                            "ingest_ops",
                            otherDone
                                    .copy()
                                    .put("_id", "hand-step-" + other)
                                    .put("step", 3)
                                    .put("terminal", false)
                                    .put("openFile", other))
                    .await();
            var completing = http.get("/api/files/" + other + q);
            assertThat(completing.statusCode()).as(completing.bodyAsString()).isEqualTo(404);
            assertThat(completing.bodyAsJsonObject().getString("message")).contains("still completing");

            // An ended delete that still holds its file (its openFile put back by hand): taken up again it
            // finished nothing and answered 200 deleted while the file stayed; now 409 naming the field.
            String held = upload(http, raw, tenant);
            JsonObject heldDone = raw.findOne("ingest_ops", new JsonObject().put("fileId", held), null)
                    .await();
            String endedId = "hand-ended-" + held;
            raw.insert(
                            "ingest_ops",
                            heldDone.copy()
                                    .put("_id", endedId)
                                    .put("kind", "DELETE")
                                    .put("openFile", held))
                    .await();
            var heldDelete = http.delete("/api/files/" + held + q);
            assertThat(heldDelete.statusCode()).as(heldDelete.bodyAsString()).isEqualTo(409);
            assertThat(heldDelete.bodyAsJsonObject().getString("message")).contains(endedId, "field openFile");
            var still = http.get("/api/files/" + held + q);
            assertThat(still.statusCode()).as(still.bodyAsString()).isEqualTo(200);
            assertThat(still.bodyAsJsonObject().getString("status")).isEqualTo("active");
        } finally {
            raw.close();
            node.stop().await();
        }
    }
}
