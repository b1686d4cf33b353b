package io.trisync.repair;

import static io.trisync.repair.RepairFixture.analyze;
import static io.trisync.repair.RepairFixture.awaitFix;
import static io.trisync.repair.RepairFixture.issues;
import static io.trisync.repair.RepairFixture.post;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.Event;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A repair racing what a client does meanwhile, found by an operator's tryout: a delete answered while
 * the repair re-embeds the file, and a cancel of the repair. The node embeds through an
 * OpenAI-compatible server on loopback that holds its answers while the test acts, so the race is
 * ordered by the held request, not by a clock.
 */
@Timeout(180)
class RepairRacesIT {

    private final EmbeddingServer embedder = new EmbeddingServer(384);
    private final String tenant = TestStack.unique("races");
    private Node node;
    private Http http;

    @BeforeEach
    void start() {
        Map<String, String> env = new HashMap<>(embedder.nodeEnv("races-model"));
        env.put("MONGO_DB", TestStack.unique("repair-races"));
        node = Node.start(TestStack.nodeConfig(env), false).await();
        http = new Http(node.vertx(), node.httpPort());
    }

    @AfterEach
    void stop() {
        embedder.release();
        http.close();
        node.stop().await();
        embedder.close();
    }

    /** Uploads {@code n} files and removes their points behind trisync's back; their ids. */
    private List<String> filesWithoutPoints(int n) {
        Stores s = node.stores();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var r = http.upload(tenant, "f" + i + ".txt", "text/plain", utf8(Fixtures.prose(300) + i), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            String id = r.bodyAsJsonObject().getString("id");
            s.vectors().deleteFile(tenant, id).await();
            ids.add(id);
        }
        assertThat(issues(analyze(http, tenant))).hasSize(n).allMatch(i -> i.startsWith("MISSING_VECTORS:"));
        return ids;
    }

    /** Starts a fix with the embedding service holding its answers; returns its operation id once one is held. */
    private String fixHeldAtItsFirstEmbedding() {
        embedder.hold();
        var started = post(
                http, "/api/sync/fix", new JsonObject().put("user_id", tenant).put("dry_run", false));
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        Await.until("the repair's first embedding request to be held", 30_000, () -> embedder.held() >= 1);
        return started.bodyAsJsonObject().getString("operation_id");
    }

    private List<JsonObject> actions(String opId) {
        List<JsonObject> out = new ArrayList<>();
        http.get("/api/sync/fix/" + opId)
                .bodyAsJsonObject()
                .getJsonArray("actions")
                .forEach(a -> out.add((JsonObject) a));
        return out;
    }

    @Test
    @DisplayName("A delete answered while the repair re-embeds the file: the points the repair makes after it are"
            + " withdrawn, and the action says why")
    void deleteDuringReembedding() {
        String id = filesWithoutPoints(1).get(0);
        String opId = fixHeldAtItsFirstEmbedding();
        var deleted = http.delete("/api/files/" + id + "?user_id=" + tenant);
        assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isIn(200, 202);
        embedder.release();

        JsonObject done = awaitFix(http, opId);
        assertThat(done.getJsonArray("actions")).hasSize(1);
        JsonObject action = done.getJsonArray("actions").getJsonObject(0);
        assertThat(action.getString("status")).isEqualTo("failed");
        assertThat(action.getString("reason")).contains("record changed").contains("withdrawn");
        assertThat(node.stores().vectors().count(tenant, id).await())
                .as("points of the file deleted while it was re-embedded")
                .isZero();
        assertThat(analyze(http, tenant).getJsonArray("issues")).isEmpty();
    }

    @Test
    @DisplayName("A cancelled repair stops at once: the re-embedding it was in writes no batch after the cancel,"
            + " and sync.op_failed says it was cancelled")
    void cancelStopsTheWork() {
        List<String> ids = filesWithoutPoints(3);
        String opId = fixHeldAtItsFirstEmbedding();
        var cancelled = post(http, "/api/v1/sync/" + opId + "/cancel", new JsonObject());
        assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(200);
        assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
        embedder.release();

        // The held file's action ends failed once its answer arrives: its batch is refused (before,
        // it was written and the repair went on to the next partition's files until a heartbeat).
        List<JsonObject> ended =
                Await.value("the held re-embedding to end", 30_000, () -> actions(opId), list -> !list.isEmpty());
        for (JsonObject action : ended) {
            assertThat(action.getString("status")).as(action.encode()).isEqualTo("failed");
            assertThat(action.getString("reason")).as(action.encode()).contains("the repair was ended");
        }
        for (String id : ids) {
            assertThat(node.stores().vectors().count(tenant, id).await())
                    .as("points of %s", id)
                    .isZero();
        }
        List<Event> ends = node.stores().events().recent(tenant, 1000).await().stream()
                .filter(e -> "sync.op_failed".equals(e.type()) && opId.equals(e.opId()))
                .toList();
        assertThat(ends).hasSize(1);
        assertThat(ends.get(0).data().getString("status")).isEqualTo("cancelled");
        assertThat(ends.get(0).data().getString("reason")).startsWith("cancelled on request by");
    }
}
