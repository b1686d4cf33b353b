package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.Node;
import io.trisync.bus.Membership;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.SyncOperation;
import io.trisync.store.SyncOperation.Status;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Tracked operations on one node with a 1 s heartbeat interval and a 1 s monitor tick. */
@Timeout(180)
class OpsIT {

    private static Node node;
    private static Http http;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(
                                Map.of("SYNC_HEARTBEAT_INTERVAL_SECONDS", "1", "SYNC_CLEANUP_INTERVAL_SECONDS", "1")),
                        false)
                .await();
        http = new Http(node.vertx(), node.httpPort());
    }

    @AfterAll
    static void stop() {
        http.close();
        node.stop().await();
    }

    private static OperationTracker tracker(long heartbeatSeconds, TimeoutPolicy policy) {
        return new OperationTracker(
                node.vertx(),
                node.stores().syncOperations(),
                new EventPublisher(node.vertx().eventBus(), node.stores().events()),
                policy,
                Duration.ofSeconds(heartbeatSeconds),
                Membership.of(node.vertx(), node.config().nodeId()),
                node.stores().incarnations());
    }

    private static OperationTracker tracker() {
        return tracker(1, new TimeoutPolicy(300, 10, 300, 7200));
    }

    /** A running operation, as a dead worker would have left it, whose last heartbeat was at {@code at}. */
    private static SyncOperation stuckOperation(String tenant, Instant at, String nodeId) {
        return new SyncOperation(
                "stuck-" + tenant,
                tenant,
                "scan",
                Status.RUNNING,
                at,
                null,
                at,
                7200,
                null,
                0,
                null,
                nodeId,
                null,
                null,
                null,
                null);
    }

    private static SyncOperation stored(String opId) {
        return node.stores().syncOperations().get(opId).await();
    }

    @Test
    @DisplayName("Two concurrent starts for one tenant: exactly one runs, the other gets 409 with its progress")
    void oneRunningPerTenant() {
        String tenant = TestStack.unique("t");
        OperationTracker tracker = tracker();
        Future<TrackedOperation> a = tracker.start(tenant, "scan", 10);
        Future<TrackedOperation> b = tracker.start(tenant, "scan", 10);
        Future.join(a, b).otherwiseEmpty().await();
        assertThat(List.of(a.succeeded(), b.succeeded())).containsExactlyInAnyOrder(true, false);
        TrackedOperation winner = a.succeeded() ? a.result() : b.result();
        Throwable loser = a.failed() ? a.cause() : b.cause();
        assertThat(loser).isInstanceOf(Failure.Conflict.class);
        JsonObject conflict = new JsonObject(loser.getMessage());
        assertThat(conflict.getBoolean("conflict")).isTrue();
        assertThat(conflict.getJsonObject("latest_sync").getString("id"))
                .isEqualTo(winner.record().id());
        assertThat(conflict.getJsonObject("latest_sync")
                        .getJsonObject("progress")
                        .getString("stage"))
                .isEqualTo("initializing");
        winner.complete(new JsonObject()).await();
        TrackedOperation next = tracker.start(tenant, "repair", 1).await();
        next.complete(new JsonObject()).await();
    }

    @Test
    @DisplayName("An analyze refused because the tenant's operation runs answers 409 with that operation as JSON,"
            + " not as a JSON string inside the message")
    void analyzeConflictCarriesTheRunningOperation() {
        String tenant = TestStack.unique("t");
        TrackedOperation running = tracker().start(tenant, "repair", 3).await();
        var refused = http.post(
                "/api/sync/analyze",
                "application/json",
                new JsonObject().put("user_id", tenant).put("wait", false).toBuffer());
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(409);
        JsonObject body = refused.bodyAsJsonObject();
        assertThat(body.getString("error")).isEqualTo("conflict");
        assertThat(body.getBoolean("conflict")).isTrue();
        assertThat(body.getJsonObject("latest_sync").getString("id"))
                .isEqualTo(running.record().id());
        assertThat(body.getString("message")).doesNotStartWith("{");
        running.complete(new JsonObject()).await();
    }

    @Test
    @DisplayName("Heartbeats go out on their own with the latest progress; status shows it while running")
    void heartbeatsAndStatus() throws Exception {
        String tenant = TestStack.unique("t");
        TrackedOperation op = tracker().start(tenant, "scan", 20).await();
        Instant first = stored(op.record().id()).heartbeatAt();
        Await.until(
                "a heartbeat before any progress",
                5000,
                () -> stored(op.record().id()).heartbeatAt().isAfter(first));
        assertThat(stored(op.record().id()).progress().totalFiles())
                .as("a heartbeat before the first progress keeps the total the operation started with")
                .isEqualTo(20);
        op.progress("processing_files", 5, 20, 5);
        Await.until(
                "the operation's progress at file 5",
                5000,
                () -> stored(op.record().id()).progress().currentFile() == 5);
        SyncOperation now = stored(op.record().id());
        assertThat(now.heartbeatAt()).isAfter(first);
        assertThat(now.progress().percentage()).isEqualTo(25.0);
        assertThat(now.filesProcessed()).isEqualTo(5);
        assertThat(now.expectedDurationSeconds()).isEqualTo(500);

        JsonObject status = http.get("/api/v1/sync/status?tenant_id=" + tenant).bodyAsJsonObject();
        JsonObject latest = status.getJsonObject("latest_sync");
        assertThat(latest.getString("id")).isEqualTo(op.record().id());
        assertThat(latest.getString("status")).isEqualTo("running");
        assertThat(latest.getJsonObject("progress").fieldNames())
                .containsExactlyInAnyOrder("stage", "percentage", "current_file", "total_files");
        assertThat(latest.getJsonObject("progress").getString("stage")).isEqualTo("processing_files");
        assertThat(latest.getJsonObject("progress").getLong("current_file")).isEqualTo(5);
        assertThat(latest.getLong("expected_duration_seconds")).isEqualTo(500);
        assertThat(latest.fieldNames())
                .contains("started_at", "completed_at", "files_processed", "error_message", "heartbeat_at");
        assertThat(status.getJsonObject("file_status").fieldNames()).contains("total", "processing");

        op.complete(new JsonObject().put("issues", 0)).await();
        assertThat(stored(op.record().id()).status()).isEqualTo(Status.COMPLETED);
        List<String> types = node.stores().events().recent(tenant, 20).await().stream()
                .map(Event::type)
                .toList();
        assertThat(types).contains("sync.op_started", "sync.op_progress", "sync.op_completed");
    }

    @Test
    @DisplayName("Progress reaches the stored record within seconds, not at the next heartbeat (here 10 minutes"
            + " away): the status endpoints read the record")
    void progressIsWrittenBetweenHeartbeats() {
        String tenant = TestStack.unique("t");
        TrackedOperation op = tracker(600, new TimeoutPolicy(300, 10, 300, 7200))
                .start(tenant, "scan", 20)
                .await();
        try {
            op.progress("processing_files", 1, 20, 1);
            Await.until(
                    "the new stage written at once",
                    10_000,
                    () -> stored(op.record().id()).progress().currentFile() == 1);
            // Within the write gap of the stage's write: written once the gap has passed.
            op.progress("processing_files", 7, 20, 7);
            Await.until(
                    "progress at file 7 in the record",
                    10_000,
                    () -> stored(op.record().id()).progress().currentFile() == 7);
            assertThat(stored(op.record().id()).filesProcessed()).isEqualTo(7);
            assertThat(http.get("/api/v1/sync/status?tenant_id=" + tenant)
                            .bodyAsJsonObject()
                            .getJsonObject("latest_sync")
                            .getJsonObject("progress")
                            .getLong("current_file"))
                    .isEqualTo(7);
        } finally {
            op.complete(new JsonObject()).await();
        }
    }

    @Test
    @DisplayName("A hung operation is failed by the monitor within 3 intervals + 1 tick; its late complete is refused")
    void monitorFailsHungOperationAndFences() throws Exception {
        String tenant = TestStack.unique("t");
        // Heartbeats every hour: the code "hangs" as far as the monitor (1 s interval) can tell.
        TrackedOperation hung = tracker(3600, new TimeoutPolicy(300, 10, 300, 7200))
                .start(tenant, "scan", 1)
                .await();
        long started = System.currentTimeMillis();
        Await.until(
                "the hung operation to end",
                10_000,
                () -> stored(hung.record().id()).status() != Status.RUNNING);
        long took = System.currentTimeMillis() - started;
        SyncOperation failed = stored(hung.record().id());
        assertThat(failed.status()).isEqualTo(Status.FAILED);
        assertThat(failed.errorMessage()).contains("no heartbeat");
        assertThat(took).isLessThan(3000 + 1000 + 1500);
        assertThatThrownBy(() -> hung.complete(new JsonObject()).await()).isInstanceOf(Failure.Conflict.class);
        assertThat(stored(hung.record().id()).status()).isEqualTo(Status.FAILED);
        assertThat(hung.stopped()).isTrue();
        TrackedOperation next = tracker().start(tenant, "scan", 1).await();
        next.complete(new JsonObject()).await();
    }

    @Test
    @DisplayName("An operation past its expected duration ends itself as timed out and frees the tenant")
    void inProcessTimeout() throws Exception {
        String tenant = TestStack.unique("t");
        TrackedOperation op = tracker(1, new TimeoutPolicy(1, 0, 1, 1))
                .start(tenant, "scan", 1000)
                .await();
        assertThat(op.record().expectedDurationSeconds()).isEqualTo(1);
        Await.until("the operation to stop", 5000, op::stopped);
        Await.until(
                "the operation to time out",
                5000,
                () -> stored(op.record().id()).status() == Status.TIMED_OUT);
        assertThat(node.stores().syncOperations().running(tenant).await()).isNull();
    }

    @Test
    @DisplayName("Cleanup fails exactly the stuck operations and leaves healthy ones running")
    void cleanupEndpoint() throws Exception {
        String stuckTenant = TestStack.unique("t");
        String healthyTenant = TestStack.unique("t");
        Instant old = Instant.now().minusSeconds(120);
        SyncOperation stuck = stuckOperation(stuckTenant, old, "some-node");
        node.stores().syncOperations().start(stuck).await();
        TrackedOperation healthy = tracker().start(healthyTenant, "scan", 1).await();
        var response = http.post("/api/v1/sync/cleanup", "application/json", Buffer.buffer());
        assertThat(response.statusCode()).isEqualTo(200);
        // The 1 s monitor may have swept it first: either way it is ended exactly once.
        assertThat(response.bodyAsJsonObject().getInteger("cleaned")).isIn(0, 1);
        Await.until(
                "the stuck operation to fail", 3000, () -> stored(stuck.id()).status() == Status.FAILED);
        assertThat(stored(healthy.record().id()).status()).isEqualTo(Status.RUNNING);
        assertThat(stored(stuck.id()).errorMessage()).contains("no heartbeat");
        // The sweep publishes its event after the fenced write, without waiting for it: wait for it;
        // after a second cleanup that ends nothing, it is still the only one.
        Await.until("the stuck operation's failure event", 3000, () -> failedEvents(stuckTenant) > 0);
        assertThat(http.post("/api/v1/sync/cleanup", "application/json", Buffer.buffer())
                        .bodyAsJsonObject()
                        .getInteger("cleaned"))
                .isZero();
        assertThat(failedEvents(stuckTenant)).isEqualTo(1);
        healthy.complete(new JsonObject()).await();
    }

    private static long failedEvents(String tenant) {
        return node.stores().events().recent(tenant, 10).await().stream()
                .filter(e -> "sync.op_failed".equals(e.type()))
                .count();
    }

    @Test
    @DisplayName("Cancel ends a running operation; its code sees it at the next heartbeat; history lists it")
    void cancelAndHistory() throws Exception {
        String tenant = TestStack.unique("t");
        TrackedOperation op = tracker().start(tenant, "repair", 3).await();
        var cancelled =
                http.post("/api/v1/sync/" + op.record().id() + "/cancel", "application/json", Buffer.buffer(""));
        assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(200);
        assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
        Await.until("the operation to stop", 5000, op::stopped);
        assertThat(http.post("/api/v1/sync/" + op.record().id() + "/cancel", "application/json", Buffer.buffer(""))
                        .statusCode())
                .isEqualTo(409);
        var history = http.get("/api/v1/sync/operations?tenant_id=" + tenant + "&limit=5")
                .bodyAsJsonObject();
        assertThat(history.getJsonArray("operations")).hasSize(1);
        assertThat(history.getJsonArray("operations").getJsonObject(0).getString("status"))
                .isEqualTo("cancelled");
    }

    @Test
    @DisplayName("The overview answers, showing nothing running, while a start has taken the tenant's slot and not"
            + " yet written its operation")
    void overviewDuringAStart() {
        String tenant = TestStack.unique("t");
        var uploaded = http.upload(tenant, "a.txt", "text/plain", Fixtures.utf8(Fixtures.prose(20)), null);
        assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            // What a start leaves between its two writes (the admin page once got a 404 here).
            raw.insert(
                            "sync_tenant_slots",
                            new JsonObject()
                                    .put("_id", tenant)
                                    .put("opId", "being-written")
                                    .put(
                                            "since",
                                            new JsonObject()
                                                    .put("$date", Instant.now().toString())))
                    .await();
            var overview = http.get("/api/sync/tenants");
            assertThat(overview.statusCode()).as(overview.bodyAsString()).isEqualTo(200);
            JsonObject row = overview.bodyAsJsonObject().getJsonArray("tenants").stream()
                    .map(JsonObject.class::cast)
                    .filter(t -> t.getString("user_id").equals(tenant))
                    .findFirst()
                    .orElseThrow();
            assertThat(row.containsKey("running")).isTrue();
            assertThat(row.getValue("running")).isNull();
        } finally {
            raw.removeDocument("sync_tenant_slots", new JsonObject().put("_id", tenant))
                    .await();
            raw.close();
        }
    }

    @Test
    @DisplayName("A start while a stuck operation holds the tenant fails the stuck one and starts")
    void stuckOperationIsReplaced() {
        String tenant = TestStack.unique("t");
        Instant old = Instant.now().minusSeconds(60);
        SyncOperation stuck = stuckOperation(tenant, old, node.config().nodeId());
        node.stores().syncOperations().start(stuck).await();
        TrackedOperation fresh = tracker().start(tenant, "scan", 1).await();
        assertThat(stored(stuck.id()).status()).isEqualTo(Status.FAILED);
        assertThat(stored(stuck.id()).errorMessage()).contains("no heartbeat");
        fresh.complete(new JsonObject()).await();
    }

    @Test
    @DisplayName(
            "POST /api/v1/sync reaches the kind's runner: 202 with the operation; 409 with the running one's progress")
    void httpStartThroughARunner() {
        String idle = TestStack.unique("t");
        var first = http.post(
                "/api/v1/sync",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("tenant_id", idle)
                        .put("kind", "repair")
                        .encode()));
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(202);
        assertThat(first.bodyAsJsonObject().getString("status")).isEqualTo("running");
        assertThat(first.bodyAsJsonObject().getString("tenant_id")).isEqualTo(idle);
        assertThat(first.bodyAsJsonObject().getString("kind")).isEqualTo("repair");

        String busy = TestStack.unique("t");
        TrackedOperation running = tracker().start(busy, "scan", 4).await();
        try {
            var second = http.post(
                    "/api/v1/sync",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("tenant_id", busy)
                            .put("kind", "repair")
                            .encode()));
            assertThat(second.statusCode()).isEqualTo(409);
            JsonObject conflict = second.bodyAsJsonObject();
            assertThat(conflict.getBoolean("conflict")).isTrue();
            assertThat(conflict.getJsonObject("latest_sync").getString("id"))
                    .isEqualTo(running.record().id());
            assertThat(conflict.getJsonObject("latest_sync")
                            .getJsonObject("progress")
                            .getString("stage"))
                    .isEqualTo("initializing");
        } finally {
            running.complete(new JsonObject()).await();
        }
    }

    @Test
    @DisplayName("Bad requests: unknown kind, malformed tenant, bad status filter are 400")
    void badRequests() {
        assertThat(http.post("/api/v1/sync", "application/json", Buffer.buffer("{\"tenant_id\":\"a\",\"kind\":\"x\"}"))
                        .statusCode())
                .isEqualTo(400);
        assertThat(http.post(
                                "/api/v1/sync",
                                "application/json",
                                Buffer.buffer("{\"tenant_id\":\"a/b\",\"kind\":\"scan\"}"))
                        .bodyAsJsonObject()
                        .getString("message"))
                .contains("tenant_id");
        assertThat(http.post("/api/v1/sync", "application/json", Buffer.buffer("not json"))
                        .statusCode())
                .isEqualTo(400);
        assertThat(http.get("/api/v1/sync/status").statusCode()).isEqualTo(400);
        assertThat(http.get("/api/v1/sync/operations?status=weird").statusCode())
                .isEqualTo(400);
        assertThat(http.post("/api/v1/sync/nope/cancel", "application/json", Buffer.buffer(""))
                        .statusCode())
                .isEqualTo(404);
    }
}
