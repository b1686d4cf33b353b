package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.trisync.Node;
import io.trisync.events.EventPublisher;
import io.trisync.metrics.Metrics;
import io.trisync.store.IngestOperation;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Retention on the embedded MongoDB (no TTL monitor there): records older than their retention are
 * removed by the sweep; an unfinished upload and its idempotency key, a running operation, and a
 * tombstone a quarantined object refers to are kept, however old. Records aged with the raw client.
 */
@Timeout(180)
class RetentionIT {

    private static final JsonObject LONG_AGO = new JsonObject().put("$date", "2020-01-01T00:00:00Z");

    @Test
    @DisplayName("Expired operations, keys, audit, events and tombstones go; what unfinished work needs stays")
    void expiredRemovedNeededKept() {
        Node node = Node.start(
                        TestStack.config(Map.of(
                                "RETENTION_INGEST_OPERATIONS_DAYS", "1",
                                "RETENTION_SYNC_OPERATIONS_DAYS", "1",
                                "RETENTION_EVENTS_DAYS", "1",
                                "RETENTION_TOMBSTONES_DAYS", "1",
                                "RETENTION_SWEEP_INTERVAL_SECONDS", "1",
                                // Recovery must not end the unfinished upload below while the test looks at it.
                                "INGEST_RECOVERY_GRACE_SECONDS", "86400")),
                        false)
                .await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("ret");
            String kept = upload(http, tenant, "kept.txt", "key-kept");
            String gone = upload(http, tenant, "gone.txt", null);
            String held = upload(http, tenant, "held.txt", null);
            assertThat(http.delete("/api/files/" + gone + "?user_id=" + tenant).statusCode())
                    .isEqualTo(200);
            assertThat(http.delete("/api/files/" + held + "?user_id=" + tenant).statusCode())
                    .isEqualTo(200);
            // A repair with an audit trail: an orphan object quarantined.
            String orphanId = Fixtures.fileId("orphan-r");
            String orphan = StoreKeys.blobKey(
                    tenant, StoreKeys.partition(orphanId, node.config().sync().partitions()), orphanId);
            node.stores()
                    .blobs()
                    .putBytes(orphan, Buffer.buffer("by hand"), "text/plain", Map.of())
                    .await();
            assertThat(http.post(
                                    "/api/sync/analyze",
                                    "application/json",
                                    Buffer.buffer(new JsonObject()
                                            .put("user_id", tenant)
                                            .encode()))
                            .statusCode())
                    .isEqualTo(200);
            var fix = http.post(
                    "/api/sync/fix",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("user_id", tenant)
                            .put("dry_run", false)
                            .encode()));
            String repairOp = fix.bodyAsJsonObject().getString("operation_id");
            Await.until("the repair to end", 60_000, () -> !node.stores()
                    .syncOperations()
                    .get(repairOp)
                    .await()
                    .status()
                    .wire()
                    .equals("running"));
            assertThat(count(raw, "sync_repair_actions", new JsonObject().put("opId", repairOp)))
                    .isPositive();
            // A quarantined object that names the deleted file "held": its tombstone must stay.
            raw.insert(
                            "sync_quarantine",
                            new JsonObject()
                                    .put("_id", "q-" + held)
                                    .put("tenantId", tenant)
                                    .put("fileId", held)
                                    .put("state", "quarantined"))
                    .await();
            // An unfinished upload with its key, and a running operation.
            IngestOperation open = IngestOperation.begin(
                    "open-" + tenant,
                    IngestOperation.Kind.UPLOAD,
                    tenant,
                    "open-file-" + tenant,
                    0,
                    "open.txt",
                    "text/plain",
                    1,
                    "0".repeat(64),
                    "key-open",
                    node.config().nodeId(),
                    node.stores().incarnations().id(),
                    null);
            node.stores().operations().begin(open).await();
            String running = OperationTracker.of(
                            node.vertx(),
                            node.config(),
                            node.stores(),
                            EventPublisher.of(node.vertx(), node.config(), node.stores()))
                    .start(TestStack.unique("ret-busy"), "scan", 1)
                    .await()
                    .record()
                    .id();

            // Everything ages past its retention.
            age(raw, "ingest_ops", new JsonObject().put("terminal", true), "updatedAt");
            age(raw, "idempotency_keys", new JsonObject(), "createdAt");
            age(
                    raw,
                    "sync_operations",
                    new JsonObject().put("completedAt", new JsonObject().put("$ne", null)),
                    "completedAt");
            age(raw, "files", new JsonObject().put("status", "deleted"), "updatedAt");
            age(raw, "files", new JsonObject().put("status", "active"), "updatedAt");
            raw.updateCollectionWithOptions(
                            "events",
                            new JsonObject().put("tenantId", tenant),
                            new JsonObject().put("$set", new JsonObject().put("at", "2020-01-01T00:00:00Z")),
                            new UpdateOptions().setMulti(true))
                    .await();

            Await.until(
                    "expired records to be removed",
                    60_000,
                    () -> count(raw, "ingest_ops", new JsonObject().put("terminal", true)) == 0
                            && count(raw, "idempotency_keys", new JsonObject()) == 1
                            && count(raw, "sync_operations", new JsonObject().put("_id", repairOp)) == 0
                            && count(raw, "sync_repair_actions", new JsonObject().put("opId", repairOp)) == 0
                            && count(raw, "events", new JsonObject().put("tenantId", tenant)) == 0
                            && count(raw, "files", new JsonObject().put("_id", gone)) == 0);
            // One more whole sweep, then what is still needed is all there.
            Counter sweeps = Metrics.of(node.config())
                    .registry()
                    .find("trisync.retention.sweeps")
                    .tag("outcome", "ok")
                    .counter();
            double before = sweeps.count();
            Await.until("another sweep", 30_000, () -> sweeps.count() >= before + 2);
            assertThat(node.stores().operations().get(open.id()).await()).isNotNull();
            assertThat(node.stores()
                            .operations()
                            .byIdempotencyKey(tenant, "key-open")
                            .await())
                    .isNotNull();
            assertThat(node.stores()
                            .operations()
                            .byIdempotencyKey(tenant, "key-kept")
                            .await())
                    .isNull();
            assertThat(node.stores()
                            .syncOperations()
                            .get(running)
                            .await()
                            .status()
                            .wire())
                    .isEqualTo("running");
            assertThat(count(raw, "files", new JsonObject().put("_id", held))).isEqualTo(1);
            assertThat(count(raw, "files", new JsonObject().put("_id", kept))).isEqualTo(1);
            assertThat(count(raw, "sync_quarantine", new JsonObject())).isEqualTo(2);
            assertThat(Metrics.of(node.config())
                            .registry()
                            .find("trisync.retention.removed")
                            .tag("record", "tombstone")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
        } finally {
            raw.close();
            node.stop().await();
        }
    }

    private static String upload(Http http, String tenant, String name, String key) {
        var r = http.upload(tenant, name, "text/plain", Fixtures.utf8(Fixtures.prose(30) + name), key);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static void age(MongoClient raw, String collection, JsonObject filter, String field) {
        raw.updateCollectionWithOptions(
                        collection,
                        filter,
                        new JsonObject().put("$set", new JsonObject().put(field, LONG_AGO)),
                        new UpdateOptions().setMulti(true))
                .await();
    }

    private static long count(MongoClient raw, String collection, JsonObject filter) {
        return raw.count(collection, filter).await();
    }
}
