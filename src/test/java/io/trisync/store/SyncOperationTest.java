package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SyncOperationTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123Z");

    private static SyncOperation op(String nodeId, String nodeName) {
        return new SyncOperation(
                "op-1",
                "t",
                "scan",
                SyncOperation.Status.RUNNING,
                T0,
                null,
                T0.plusSeconds(5),
                600,
                new SyncOperation.Progress("scanning", 50, 5, 10),
                5,
                null,
                nodeId,
                nodeName,
                "inc-1",
                new JsonObject().put("k", 1),
                Actor.SYSTEM);
    }

    @Test
    @DisplayName("The stored document gives back the same operation, its member id and node name both")
    void documentRoundTrip() {
        SyncOperation op = op("member-7", "node-a");
        SyncOperation read = SyncOperation.fromDocument(op.toDocument());
        assertThat(read).isEqualTo(op);
        assertThat(read.nodeId()).isEqualTo("member-7");
        assertThat(read.nodeName()).isEqualTo("node-a");
    }

    @Test
    @DisplayName("A re-index's progress keeps its files re-embedded and skipped through the store and shows them")
    void reindexProgressRoundTrip() {
        SyncOperation.Progress progress =
                new SyncOperation.Progress("updating_embeddings", 50, 5, 10, 2.5, 3L, null, null, 4L, 1L);
        JsonObject doc = op("member-7", "node-a").toDocument().put(SyncOperation.PROGRESS, progress.toJson());
        SyncOperation read = SyncOperation.fromDocument(doc);
        assertThat(read.progress()).isEqualTo(progress);
        JsonObject shown = read.toPublicJson().getJsonObject("progress");
        assertThat(shown.getLong("files_reindexed")).isEqualTo(4);
        assertThat(shown.getLong("files_skipped")).isEqualTo(1);
        assertThat(op("member-7", "node-a")
                        .toPublicJson()
                        .getJsonObject("progress")
                        .containsKey("files_skipped"))
                .as("other kinds do not tell them")
                .isFalse();
    }

    @Test
    @DisplayName("The API names the node by its NODE_ID; an operation recorded before names were kept, by its id")
    void publicNodeId() {
        assertThat(op("member-7", "node-a").toPublicJson().getString("node_id")).isEqualTo("node-a");
        JsonObject old = op("member-7", "node-a").toDocument();
        old.remove(SyncOperation.NODE_NAME);
        assertThat(SyncOperation.fromDocument(old).toPublicJson().getString("node_id"))
                .isEqualTo("member-7");
    }
}
