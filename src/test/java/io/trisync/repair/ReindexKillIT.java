package io.trisync.repair;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.Reindexing;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A re-index killed half way (SIGKILL of the node's JVM) and started again resumes from its
 * checkpoints: the embedding service (on loopback, in the test's JVM) sees each file's text once,
 * except the files of the batch that was in flight at the kill.
 */
@Timeout(300)
class ReindexKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(ReindexKillIT.class);
    static final int FILES = 40;
    /** Files a batch in flight can hold at most when the kill comes (the first batch size; later ones are smaller). */
    static final int IN_FLIGHT = 8;

    private final EmbeddingServer server = new EmbeddingServer(384);
    private final Vertx vertx = Vertx.vertx();
    private final Path dir = TestStack.tempDir("trisync-reindex-kill");
    private final String tenant = TestStack.unique("reindex");
    private ChildNode node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
        server.close();
        vertx.close().await();
    }

    private ChildNode node(String model) {
        return new ChildNode(dir, Reindexing.nodeEnv(server, model));
    }

    @Test
    @DisplayName("A re-index killed half way resumes from its checkpoints: no finished file is embedded again")
    void resumesAfterKill() {
        node = node("model-a");
        node.start(120);
        try (Http http = new Http(vertx, node.httpPort())) {
            for (int i = 0; i < FILES; i++) {
                HttpResponse<Buffer> r = http.upload(tenant, "doc.txt", "text/plain", Reindexing.marked(i), null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            }
        }
        node.kill();
        // The same stores, now embedding with another model, each request answered after 150 ms.
        ChildNode first = node("model-b");
        node = first;
        first.start(120);
        server.delay(150);
        int mark = server.inputs().size();
        String firstOp;
        try (Http http = new Http(vertx, first.httpPort())) {
            HttpResponse<Buffer> started = Reindexing.start(http, tenant);
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            firstOp = started.bodyAsJsonObject().getString("id");
        }
        Await.until(
                "a third of the files re-embedded",
                60_000,
                () -> Reindexing.markers(server.inputs(), mark).size() >= FILES / 3);
        first.kill();
        List<String> afterKill = server.inputs();
        Set<Integer> beforeKill = Reindexing.markers(afterKill, mark);
        assertThat(beforeKill.size()).as("files re-embedded before the kill").isLessThan(FILES);

        ChildNode second = node("model-b");
        node = second;
        second.start(120);
        int mark2 = afterKill.size();
        JsonObject done;
        try (Http http = new Http(vertx, second.httpPort())) {
            Await.until("the killed re-index to be failed", 30_000, () -> !"running"
                    .equals(Reindexing.latest(http, tenant).getString("status")));
            HttpResponse<Buffer> again = Reindexing.start(http, tenant);
            assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
            Await.until("the resumed re-index to complete", 120_000, () -> "completed"
                    .equals(Reindexing.latest(http, tenant).getString("status")));
            done = Reindexing.latest(http, tenant);
            JsonObject result = done.getJsonObject("result");
            assertThat(result.getLong("stale_after")).as("result %s", result).isZero();
        }
        Set<Integer> resumed = Reindexing.markers(server.inputs(), mark2);
        // Found by the twelfth session's tryout: the resumed run's result counted only the files it
        // embedded itself. It counts the whole tenant's now, says which of them it did, and names the
        // run it went on from; its final progress says the same.
        JsonObject result = done.getJsonObject("result");
        assertThat(result.getLong("files"))
                .as("files re-indexed by both runs: %s", result)
                .isEqualTo(FILES);
        assertThat(result.getLong("skipped")).as("result %s", result).isZero();
        assertThat(result.getLong("files_this_run"))
                .as("files the resumed run embedded: %s", result)
                .isEqualTo(resumed.size());
        assertThat(result.getJsonArray("resumed_from").getList())
                .as("result %s", result)
                .containsExactly(firstOp);
        JsonObject progress = done.getJsonObject("progress");
        assertThat(progress.getLong("files_reindexed"))
                .as("progress %s", progress)
                .isEqualTo(FILES);
        assertThat(progress.getLong("current_file")).as("progress %s", progress).isEqualTo(FILES);
        assertThat(progress.getLong("total_files")).as("progress %s", progress).isEqualTo(FILES);
        Set<Integer> twice = new HashSet<>(beforeKill);
        twice.retainAll(resumed);
        LOG.info(
                "Re-index: {} files before the kill, {} after the restart, {} embedded in both",
                beforeKill.size(),
                resumed.size(),
                twice.size());
        Set<Integer> all = new HashSet<>(beforeKill);
        all.addAll(resumed);
        assertThat(all).as("files re-embedded in the two runs").hasSize(FILES);
        assertThat(twice.size())
                .as("files embedded by both runs (the batch in flight at the kill)")
                .isLessThanOrEqualTo(IN_FLIGHT);
        assertThat(resumed.size()).as("files the resumed run embedded").isLessThan(FILES);
    }
}
