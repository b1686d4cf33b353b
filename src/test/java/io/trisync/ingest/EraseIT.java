package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.TenantErasures;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Erasing a tenant: afterwards no object, point, record or event of it exists (read back with the raw
 * clients), another tenant is untouched, its running operation was cancelled, writes to a tenant
 * being erased are refused, and an erasure whose operation is gone (its node died) is resumed.
 */
@Timeout(180)
class EraseIT {

    private static final String[] COLLECTIONS = {
        "files", "ingest_ops", "sync_issues", "sync_quarantine", "index_jobs", "partition_checks"
    };

    @Test
    @DisplayName("A tenant with files, a quarantined object and a running operation is erased from every store;"
            + " another tenant keeps everything; writes during an erasure are 409; a cut-off erasure resumes")
    void erase() {
        // The monitor and the erasure sweep every 2 s: a cut-off erasure is resumed within seconds.
        Node node = Node.start(TestStack.config(Map.of("SYNC_CLEANUP_INTERVAL_SECONDS", "2")), false)
                .await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String gone = TestStack.unique("erase");
            String kept = TestStack.unique("keep");
            for (int i = 0; i < 5; i++) {
                assertThat(upload(http, gone, "g" + i + ".txt", i == 0 ? "key-1" : null))
                        .isEqualTo(201);
            }
            for (int i = 0; i < 2; i++) {
                assertThat(upload(http, kept, "k" + i + ".txt", null)).isEqualTo(201);
            }
            // A file given a new version: its previous version is retained under versions~/.
            String versioned = http.get("/api/files?user_id=" + gone)
                    .bodyAsJsonObject()
                    .getJsonArray("files")
                    .getJsonObject(0)
                    .getString("id");
            var replaced = http.replace(
                    "/api/files/" + versioned + "/content?user_id=" + gone,
                    "v2.txt",
                    "text/plain",
                    Fixtures.utf8(Fixtures.prose(20) + " second version"),
                    null);
            assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(200);
            assertThat(node.stores()
                            .blobs()
                            .list(StoreKeys.versionsPrefix(gone), null, 10, false)
                            .await()
                            .items())
                    .hasSize(1);
            // An orphan object quarantined by a repair, and so a quarantine entry, audit and events.
            node.stores()
                    .blobs()
                    .putBytes(
                            StoreKeys.blobKey(
                                    gone,
                                    StoreKeys.partition(Fixtures.fileId("orphan-e"), 64),
                                    Fixtures.fileId("orphan-e")),
                            Buffer.buffer("by hand"),
                            "text/plain",
                            Map.of())
                    .await();
            post(http, "/api/sync/analyze", new JsonObject().put("user_id", gone));
            String fix = http.post(
                            "/api/sync/fix",
                            "application/json",
                            Buffer.buffer(new JsonObject()
                                    .put("user_id", gone)
                                    .put("dry_run", false)
                                    .encode()))
                    .bodyAsJsonObject()
                    .getString("operation_id");
            Await.until("the repair to end", 60_000, () -> !"running"
                    .equals(node.stores()
                            .syncOperations()
                            .get(fix)
                            .await()
                            .status()
                            .wire()));
            assertThat(count(raw, "sync_quarantine", gone)).isEqualTo(1);
            // A running operation of the tenant, which the erasure cancels.
            String held = OperationTracker.of(
                            node.vertx(),
                            node.config(),
                            node.stores(),
                            EventPublisher.of(node.vertx(), node.config(), node.stores()))
                    .start(gone, "scan", 5)
                    .await()
                    .record()
                    .id();

            var started = http.delete("/api/tenants/" + gone);
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            assertThat(started.bodyAsJsonObject().getString("kind")).isEqualTo("erase");
            assertThat(node.stores().syncOperations().get(held).await().status().wire())
                    .isEqualTo("cancelled");
            Await.until("the erasure to end", 60_000, () -> "erased"
                    .equals(http.get("/api/tenants/" + gone).bodyAsJsonObject().getString("state")));
            JsonObject erasure = http.get("/api/tenants/" + gone).bodyAsJsonObject();
            assertThat(erasure.getJsonObject("result").getBoolean("verified")).isTrue();
            // Five files, the quarantined orphan and the retained previous version.
            assertThat(erasure.getJsonObject("result").getLong("blobs")).isEqualTo(7);

            // Nothing of it is left, read with the raw clients; the other tenant keeps everything.
            assertThat(node.stores()
                            .blobs()
                            .list(gone + "/", null, 10, false)
                            .await()
                            .items())
                    .isEmpty();
            assertThat(node.stores()
                            .blobs()
                            .list(StoreKeys.quarantinePrefix(gone), null, 10, false)
                            .await()
                            .items())
                    .isEmpty();
            assertThat(node.stores()
                            .blobs()
                            .list(StoreKeys.versionsPrefix(gone), null, 10, false)
                            .await()
                            .items())
                    .as("retained versions")
                    .isEmpty();
            assertThat(node.stores()
                            .vectors()
                            .scroll(gone, null, null, 10)
                            .await()
                            .items())
                    .isEmpty();
            for (String collection : COLLECTIONS) {
                assertThat(count(raw, collection, gone)).as(collection).isZero();
            }
            assertThat(raw.count("sync_operations", new JsonObject().put("tenantId", gone))
                            .await())
                    .as("only the erasure's own operation")
                    .isEqualTo(1);
            assertThat(raw.count("idempotency_keys", new JsonObject()).await()).isZero();
            // What is left is the record of the erasure itself: its operation and that operation's events.
            String eraseOp = started.bodyAsJsonObject().getString("id");
            assertThat(raw.count(
                                    "events",
                                    new JsonObject()
                                            .put("tenantId", gone)
                                            .put("opId", new JsonObject().put("$ne", eraseOp)))
                            .await())
                    .isZero();
            assertThat(count(raw, "files", kept)).isEqualTo(2);
            assertThat(node.stores()
                            .blobs()
                            .list(kept + "/", null, 10, false)
                            .await()
                            .items())
                    .hasSize(2);
            assertThat(node.stores()
                            .vectors()
                            .scroll(kept, null, null, 10)
                            .await()
                            .items())
                    .hasSize(2);

            // A tenant marked as being erased takes no upload; a marker whose operation is gone is resumed.
            String cut = TestStack.unique("cut");
            assertThat(upload(http, cut, "c.txt", null)).isEqualTo(201);
            raw.insert(
                            "tenant_erasures",
                            new JsonObject()
                                    .put("_id", cut)
                                    .put("state", "erasing")
                                    .put("opId", "op-of-a-dead-node"))
                    .await();
            // This node read the tenant's erasure state for the upload above: a write may pass on that
            // answer for a lease after its read started, and is refused from then on.
            // Only the check is bounded by the lease, so each admitted upload is timed from when it was sent.
            long marked = System.nanoTime();
            long sent = System.nanoTime();
            var refused = http.upload(cut, "late.txt", "text/plain", Fixtures.utf8("late"), null);
            while (refused.statusCode() == 201) {
                assertThat(Duration.ofNanos(sent - marked))
                        .as("a write sent after the mark and admitted")
                        .isLessThan(TenantErasures.LEASE);
                sent = System.nanoTime();
                refused = http.upload(cut, "late.txt", "text/plain", Fixtures.utf8("late"), null);
            }
            assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(409);
            assertThat(refused.bodyAsJsonObject().getString("message")).contains("tenant_erasing");
            Await.until("the cut-off erasure to be resumed and finished", 90_000, () -> "erased"
                    .equals(http.get("/api/tenants/" + cut).bodyAsJsonObject().getString("state")));
            assertThat(count(raw, "files", cut)).isZero();
            assertThat(upload(http, cut, "again.txt", null))
                    .as("an erased tenant's name may be used again")
                    .isEqualTo(201);
        } finally {
            raw.close();
            node.stop().await();
        }
    }

    private static int upload(Http http, String tenant, String name, String key) {
        return http.upload(tenant, name, "text/plain", Fixtures.utf8(Fixtures.prose(30) + name), key)
                .statusCode();
    }

    private static void post(Http http, String path, JsonObject body) {
        assertThat(http.post(path, "application/json", Buffer.buffer(body.encode()))
                        .statusCode())
                .isEqualTo(200);
    }

    private static long count(MongoClient raw, String collection, String tenant) {
        return raw.count(collection, new JsonObject().put("tenantId", tenant)).await();
    }
}
