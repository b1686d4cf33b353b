package io.trisync.repair;

import static io.trisync.repair.RepairFixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.ChunkPoint;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A fix cut short by its node stopping, run again on another node. */
@Timeout(300)
class RepairResumeIT {

    @Test
    @DisplayName("A fix interrupted by a node stopping half way and run again on another node ends in the same"
            + " state as an uninterrupted fix")
    void resumesAfterInterruption() {
        Map<String, String> fast = Map.of("SYNC_PARTITIONS", "" + P, "SYNC_HEARTBEAT_INTERVAL_SECONDS", "1");
        Node a = Node.start(TestStack.nodeConfig(fast), false).await();
        Node b = Node.start(TestStack.nodeConfig(fast), false).await();
        try (Http httpA = new Http(a.vertx(), a.httpPort());
                Http httpB = new Http(b.vertx(), b.httpPort())) {
            Stores s = b.stores();
            int n = 150;
            String interrupted = TestStack.unique("cut");
            String whole = TestStack.unique("whole");
            for (String tenant : List.of(interrupted, whole)) {
                for (int i = 0; i < n; i++) {
                    String file = Fixtures.fileId("orphan-" + i);
                    s.blobs()
                            .putBytes(
                                    StoreKeys.blobKey(tenant, StoreKeys.partition(file, P), file),
                                    Buffer.buffer("bytes of " + file),
                                    "text/plain",
                                    Map.of())
                            .await();
                }
                List<ChunkPoint> ghosts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    ghosts.add(ChunkPoint.of(
                            tenant, "ghost-" + i, 0, StoreKeys.partition("ghost-" + i, P), "sha", "m", vector()));
                }
                s.vectors().upsert(ghosts).await();
                assertThat(analyze(httpB, tenant).getJsonArray("issues")).hasSize(2 * n);
            }

            var started = post(
                    httpA,
                    "/api/sync/fix",
                    new JsonObject().put("user_id", interrupted).put("dry_run", false));
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String first = started.bodyAsJsonObject().getString("operation_id");
            Await.until(
                    "20 actions of the first fix done",
                    60_000,
                    () -> s.repairs().audits(first, 1000).await().size() >= 20);
            a.stop().await();
            int doneBeforeStop = s.repairs().audits(first, 1000).await().size();
            assertThat(doneBeforeStop).as("stopped half way").isLessThan(2 * n);

            // Run again on the other node once the first operation's heartbeat is stale (3 intervals).
            var resumed = Await.value(
                    "the tenant's fix to be no longer in progress",
                    30_000,
                    () -> post(
                            httpB,
                            "/api/sync/fix",
                            new JsonObject().put("user_id", interrupted).put("dry_run", false)),
                    r -> r.statusCode() != 409);
            assertThat(resumed.statusCode()).as(resumed.bodyAsString()).isEqualTo(202);
            JsonObject second = awaitFix(httpB, resumed.bodyAsJsonObject().getString("operation_id"));
            assertThat(second.getJsonObject("result").getLong("failed")).isZero();
            JsonObject reference = fixAndWait(httpB, whole);
            assertThat(reference.getJsonObject("result").getLong("successful")).isEqualTo(2L * n);

            for (String tenant : List.of(interrupted, whole)) {
                assertThat(analyze(httpB, tenant).getJsonArray("issues"))
                        .as(tenant)
                        .isEmpty();
                assertThat(snapshot(s, tenant))
                        .as("nothing left at the original keys or in Qdrant")
                        .isEmpty();
                assertThat(s.repairs().quarantine(tenant, "quarantined", 1000).await())
                        .hasSize(n);
                assertThat(quarantinedObjects(s, tenant))
                        .as("each object quarantined exactly once")
                        .hasSize(n);
            }
            assertThat(quarantinedObjects(s, interrupted).values())
                    .containsExactlyInAnyOrderElementsOf(
                            quarantinedObjects(s, whole).values());
        } finally {
            b.stop().await();
        }
    }
}
