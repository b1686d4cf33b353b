package io.trisync.repair;

import static io.trisync.repair.RepairFixture.analyze;
import static io.trisync.repair.RepairFixture.post;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.ChunkPoint;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.Reindexing;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A re-embedding racing a new version of the file it embeds, found by a lifecycle tryout: a re-index
 * (or the index queue, for a file whose vectors were pending) read the old content, the new version was
 * written in full while that was embedded, and the old content's points (the same ids as the new
 * version's) overwrote the new version's, then were withdrawn as of a changed file, so the new version
 * was left without a vector and no search found it.
 * The node embeds through an OpenAI-compatible server on loopback that holds only the old content's
 * requests, so the race is ordered by the held request, not by a clock.
 */
@Timeout(240)
class ReembedRacesIT {

    private static final String OLD_MARKER = "heldmarkerword";

    private static final String NEW_TEXT =
            "a new version about lighthouses keepers and fog horns on the northern coast";

    private final EmbeddingServer embedder = new EmbeddingServer(384);
    private final String tenant = TestStack.unique("reindex-races");
    private Node node;
    private Http http;

    private Map<String, String> env;

    @BeforeEach
    void start() {
        env = new HashMap<>(embedder.nodeEnv("reindex-races-model"));
        env.put("MONGO_DB", TestStack.unique("reindex-races"));
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

    @Test
    @DisplayName("A new version written while a re-index embeds the old content keeps its vectors: the re-index"
            + " leaves the file out as changed")
    void newVersionDuringReembedding() {
        newVersionDuring(utf8(OLD_MARKER + " " + Fixtures.prose(600)));
    }

    @Test
    @DisplayName("The same for a large file, whose re-embedded points are written a batch at a time")
    void newVersionDuringLargeReembedding() {
        // Over ReindexBatches.ALONE_BYTES: embedded alone, its points upserted as they are made.
        byte[] large = utf8(OLD_MARKER + " " + Fixtures.prose(60_000));
        assertThat((long) large.length).isGreaterThan(ReindexBatches.ALONE_BYTES);
        newVersionDuring(large);
    }

    @Test
    @DisplayName("A new version written while the index queue embeds the file's pending content keeps its vectors")
    void newVersionDuringPendingIndexing() {
        embedder.refuse(503);
        var up = http.upload(tenant, "doc.txt", "text/plain", utf8(OLD_MARKER + " " + Fixtures.prose(600)), null);
        assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(202);
        assertThat(up.bodyAsJsonObject().getString("indexing")).isEqualTo("pending");
        String id = up.bodyAsJsonObject().getString("id");
        // The provider answers again, but holds the index job's embedding of the pending content.
        embedder.holdTextsWith(OLD_MARKER);
        embedder.refuse(0);
        Await.until("the index job's embedding of the pending content to be held", 60_000, () -> embedder.held() >= 1);

        // The new version is written by a second node on the same stores: on the worker's own node its
        // embedding would wait for the held one (one verticle's blocking tasks run in order), as a
        // new version received by another ingest verticle or node does not.
        Node other = Node.start(TestStack.nodeConfig(env), false).await();
        try (Http otherHttp = new Http(other.vertx(), other.httpPort())) {
            JsonObject file = putNewVersion(otherHttp, id);
            embedder.release();
            Await.until(
                    "the index job to end",
                    60_000,
                    () -> node.stores().indexQueue().get(id).await() == null);
            assertNewVersionServed(id, file);
        } finally {
            other.stop().await();
        }
    }

    /** Writes the new version (no marker: its embedding is answered) and returns the file it answered. */
    private JsonObject putNewVersion(String id) {
        return putNewVersion(http, id);
    }

    private JsonObject putNewVersion(Http http, String id) {
        var put = http.replace(
                "/api/files/" + id + "/content?user_id=" + tenant, "doc.txt", "text/plain", utf8(NEW_TEXT), null);
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
        JsonObject file = put.bodyAsJsonObject();
        assertThat(file.getInteger("chunks")).isPositive();
        return file;
    }

    /** The new version has its points, made from its content, search finds it by it, and a scan finds nothing. */
    private void assertNewVersionServed(String id, JsonObject file) {
        String newSha = file.getString("sha256");
        List<ChunkPoint> points = node.stores().vectors().pointsOf(tenant, id).await();
        assertThat(points)
                .as("the new version's points after the re-embedding")
                .hasSize(file.getInteger("chunks"))
                .allMatch(p -> newSha.equals(p.contentSha256()), "made from the new version's content");
        var found = post(
                http,
                "/api/search",
                new JsonObject().put("user_id", tenant).put("query", "lighthouses keepers fog horns"));
        assertThat(found.statusCode()).as(found.bodyAsString()).isEqualTo(200);
        assertThat(found.bodyAsJsonObject().getJsonArray("results").stream()
                        .map(r -> ((JsonObject) r).getString("file_id"))
                        .toList())
                .as(found.bodyAsString())
                .containsExactly(id);
        assertThat(analyze(http, tenant).getJsonArray("issues")).isEmpty();
    }

    private void newVersionDuring(byte[] oldContent) {
        var up = http.upload(tenant, "doc.txt", "text/plain", oldContent, null);
        assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(201);
        String id = up.bodyAsJsonObject().getString("id");

        // The re-index's embedding of the old content is held; everything else is answered.
        embedder.holdTextsWith(OLD_MARKER);
        var started = Reindexing.startAll(http, tenant);
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        String opId = started.bodyAsJsonObject().getString("id");
        Await.until("the re-index's embedding of the old content to be held", 60_000, () -> embedder.held() >= 1);

        JsonObject file = putNewVersion(id);

        embedder.release();
        JsonObject ended = Await.value(
                "the re-index to end",
                120_000,
                () -> Reindexing.latest(http, tenant),
                op -> opId.equals(op.getString("id")) && !"running".equals(op.getString("status")));
        assertThat(ended.getString("status")).as(ended.encode()).isEqualTo("completed");
        assertNewVersionServed(id, file);
        JsonObject result = http
                .get("/api/v1/sync/operations?tenant_id=" + tenant)
                .bodyAsJsonObject()
                .getJsonArray("operations")
                .stream()
                .map(JsonObject.class::cast)
                .filter(op -> opId.equals(op.getString("id")))
                .findFirst()
                .orElseThrow()
                .getJsonObject("result");
        assertThat(result.getJsonArray("skipped_files").encode())
                .as(result.encode())
                .contains(id)
                .contains("changed");
    }
}
