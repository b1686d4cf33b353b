package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.trisync.Node;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Faults at the store boundary and between steps, then recovery: the three stores agree afterwards,
 * nothing acknowledged is lost and nothing unacknowledged is left behind.
 */
@Timeout(600)
class IngestFaultIT {

    private static RestartableStores stores;

    @BeforeAll
    static void startStores() throws Exception {
        stores = new RestartableStores();
    }

    @org.junit.jupiter.api.AfterEach
    void storesBack() throws Exception {
        stores.startStopped();
    }

    @AfterAll
    static void stopStores() throws Exception {
        stores.close();
    }

    private static TrisyncConfig config() {
        return stores.nodeConfig(
                Map.of("INGEST_RECOVERY_GRACE_SECONDS", "1", "INGEST_RECOVERY_INTERVAL_SECONDS", "3600"));
    }

    /**
     * A hook that stops the operation of {@code kind} after {@code step} for good, as a crash would,
     * and notes its id in {@code stopped}.
     */
    private static IngestHooks crashAfter(
            Kind kind, Step step, CountDownLatch reached, AtomicReference<String> stopped) {
        return (op, done) -> {
            if (op.kind() == kind && done == step) {
                stopped.set(op.id());
                reached.countDown();
                return Promise.<Void>promise().future();
            }
            return Future.succeededFuture();
        };
    }

    /** Waits until {@code node} finds MongoDB again (its gate lets a probe through every Retry-After). */
    private static void awaitMongo(Node node) {
        Await.until("MongoDB to answer again", 20_000, () -> node.stores()
                .ping("mongodb")
                .transform(ar -> io.vertx.core.Future.succeededFuture(ar.succeeded()))
                .await());
    }

    /** Runs one recovery sweep on {@code node}; returns how many operations it ended. */
    private static int sweep(Node node) {
        return node.vertx()
                .eventBus()
                .<JsonObject>request(IngestAddresses.RECOVER, new JsonObject())
                .await()
                .body()
                .getInteger("ended");
    }

    /**
     * Sweeps on {@code node} until operation {@code opId} has ended (a holder that may be alive is
     * claimed only after the 1 s grace period) and returns it as recovery left it.
     */
    private static IngestOperation recovered(Node node, String opId) {
        Await.until("recovery to end operation " + opId, 30_000, () -> {
            sweep(node);
            return node.stores().operations().get(opId).await().step().terminal();
        });
        return node.stores().operations().get(opId).await();
    }

    /** Sweeps on {@code node} until {@code tenant} has no open operation; returns how many the sweeps ended. */
    private static int recoverTenant(Node node, String tenant) {
        int[] ended = {0};
        Await.until("recovery to end every operation of " + tenant, 30_000, () -> {
            if (node.stores().operations().countOpen(tenant).await() == 0) {
                return true;
            }
            ended[0] += sweep(node);
            return false;
        });
        return ended[0];
    }

    private static Future<HttpResponse<Buffer>> uploadAsync(Node node, String tenant, byte[] bytes) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(bytes), "text/plain");
        return WebClient.create(node.vertx())
                .post(node.httpPort(), "127.0.0.1", "/api/files")
                .sendMultipartForm(form);
    }

    private static void assertNothingLeft(Stores s, String tenant) {
        assertThat(s.metadata().count(FileQuery.tenant(tenant)).await())
                .as("metadata")
                .isZero();
        assertThat(s.blobs().list(tenant + "/", null, 10, false).await().items())
                .as("blobs")
                .isEmpty();
        assertThat(s.vectors().count(tenant, null).await()).as("points").isZero();
        assertThat(s.operations().countOpen(tenant).await())
                .as("open operations")
                .isZero();
    }

    private static FileRecord assertComplete(Stores s, String tenant, byte[] bytes) {
        List<FileRecord> files =
                s.metadata().list(FileQuery.tenant(tenant), null, 10).await().items();
        assertThat(files).hasSize(1);
        FileRecord f = files.get(0);
        assertThat(f.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(s.blobs()
                        .getBytes(StoreKeys.blobKey(tenant, f.partition(), f.id()))
                        .await()
                        .getBytes())
                .isEqualTo(bytes);
        assertThat(s.vectors().count(tenant, f.id()).await())
                .isEqualTo(f.embedding().chunks())
                .isPositive();
        assertThat(s.operations().countOpen(tenant).await()).isZero();
        return f;
    }

    private static List<String> eventTypes(Stores s, String tenant) {
        return s.events().recent(tenant, 100).await().stream().map(Event::type).toList();
    }

    @ParameterizedTest(name = "crash after {0}")
    @EnumSource(
            value = Step.class,
            names = {"BLOB_WRITTEN", "METADATA_WRITTEN", "VECTORS_WRITTEN", "COMMITTED"})
    @DisplayName("An upload whose node stops after a step is undone by recovery, unless it had committed")
    void uploadInterruptedAfterStep(Step step) throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        AtomicReference<String> stopped = new AtomicReference<>();
        Node crashing = Node.start(config(), false, crashAfter(Kind.UPLOAD, step, reached, stopped))
                .await();
        uploadAsync(crashing, tenant, bytes);
        assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(crashing.stores()
                        .operations()
                        .get(stopped.get())
                        .await()
                        .step()
                        .terminal())
                .as("left unfinished by the stopped node")
                .isFalse();
        crashing.stop().await();

        Node survivor = Node.start(config(), false).await();
        try {
            // Recovery (the survivor's start-up sweep or a later one) finishes a committed upload and undoes the rest.
            assertThat(recovered(survivor, stopped.get()).step())
                    .isEqualTo(step == Step.COMMITTED ? Step.DONE : Step.ABORTED);
            assertThat(survivor.stores().operations().countOpen(tenant).await()).isZero();
            if (step == Step.COMMITTED) {
                assertComplete(survivor.stores(), tenant, bytes);
                assertThat(eventTypes(survivor.stores(), tenant)).containsExactly("embedding.created", "file.uploaded");
            } else {
                assertNothingLeft(survivor.stores(), tenant);
                assertThat(eventTypes(survivor.stores(), tenant)).isEmpty();
            }
        } finally {
            survivor.stop().await();
        }
    }

    @ParameterizedTest(name = "crash after {0}")
    @EnumSource(
            value = Step.class,
            names = {"BEGUN", "METADATA_DELETED", "BLOB_DELETED", "VECTORS_DELETED", "COMMITTED"})
    @DisplayName("A delete whose node stops after a step is finished by recovery")
    void deleteInterruptedAfterStep(Step step) throws Exception {
        String tenant = TestStack.unique("t");
        CountDownLatch reached = new CountDownLatch(1);
        AtomicReference<String> stopped = new AtomicReference<>();
        Node crashing = Node.start(config(), false, crashAfter(Kind.DELETE, step, reached, stopped))
                .await();
        String fileId;
        int partition;
        try (Http http = new Http(crashing.vertx(), crashing.httpPort())) {
            JsonObject file = http.upload(tenant, "doc.txt", "text/plain", utf8(Fixtures.prose(200)), null)
                    .bodyAsJsonObject();
            fileId = file.getString("id");
            partition = crashing.stores().metadata().get(fileId).await().partition();
            WebClient.create(crashing.vertx())
                    .delete(crashing.httpPort(), "127.0.0.1", "/api/files/" + fileId + "?user_id=" + tenant)
                    .send();
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(crashing.stores().operations().get(stopped.get()).await().step())
                    .as("the delete was stopped, unfinished, right after " + step)
                    .isEqualTo(step);
        }
        crashing.stop().await();

        Node survivor = Node.start(config(), false).await();
        try {
            assertThat(recovered(survivor, stopped.get()).step()).isEqualTo(Step.DONE);
            Stores s = survivor.stores();
            assertThat(s.metadata().get(fileId).await().status()).isEqualTo(FileRecord.Status.DELETED);
            assertThatThrownBy(() -> s.blobs()
                            .head(StoreKeys.blobKey(tenant, partition, fileId))
                            .await())
                    .isInstanceOf(Failure.NotFound.class);
            assertThat(s.vectors().count(tenant, fileId).await()).isZero();
            assertThat(s.operations().countOpen(tenant).await()).isZero();
            assertThat(eventTypes(s, tenant)).contains("file.deleted", "embedding.deleted");
        } finally {
            survivor.stop().await();
        }
    }

    @Test
    @DisplayName("S3 down: the upload fails 503, the next fails fast, and nothing is left once S3 returns")
    void s3DownDuringUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopS3();
            HttpResponse<Buffer> first = http.upload(tenant, "a.txt", "text/plain", utf8("hello"), null);
            assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(503);
            assertThat(first.getHeader("Retry-After")).isNotNull();
            HttpResponse<Buffer> second = http.upload(tenant, "b.txt", "text/plain", utf8("hello"), null);
            assertThat(second.statusCode()).isEqualTo(503);
            assertThat(second.bodyAsJsonObject().getString("message")).contains("s3 is unavailable");
            assertThat(second.getHeader("Retry-After")).isEqualTo(String.valueOf(Failure.RETRY_AFTER_SECONDS));
            assertThat(second.bodyAsJsonObject().getString("message"))
                    .contains("retry in " + Failure.RETRY_AFTER_SECONDS + "s");
            stores.startS3();
            // The breaker probes S3 once every Retry-After: an upload succeeds within that of S3's return.
            long back = System.nanoTime();
            io.trisync.testsupport.Await.until(
                    "an upload to succeed after S3's return",
                    10_000,
                    () -> http.upload(tenant, "c.txt", "text/plain", utf8("hello again"), null)
                                    .statusCode()
                            == 201);
            long tookMs = (System.nanoTime() - back) / 1_000_000;
            assertThat(tookMs).as("ms from S3's return to a stored upload").isLessThan(5_000);
            recoverTenant(node, tenant);
            assertThat(node.stores().metadata().count(FileQuery.tenant(tenant)).await())
                    .as("only the upload made after S3 returned")
                    .isEqualTo(1);
            assertThat(node.stores().operations().countOpen(tenant).await()).isZero();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Qdrant down: the upload fails 503, its failed undo is logged, and the node undoes it completely once"
            + " Qdrant returns")
    void qdrantDownDuringUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger uploads = (Logger) LoggerFactory.getLogger("io.trisync.ingest.UploadFlow");
        log.start();
        uploads.addAppender(log);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopQdrant();
            HttpResponse<Buffer> r = http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(50)), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
            // The undo needs Qdrant too: it fails, and says so.
            io.trisync.testsupport.Await.until("the failed undo to be logged", 30_000, () -> log.list.stream()
                    .anyMatch(e -> e.getLevel() == Level.WARN
                            && e.getFormattedMessage().contains("could not be undone now")
                            && e.getFormattedMessage().contains(tenant)));
            uploads.detachAppender(log);
            // The record goes first, while Qdrant is still down: no listing shows the refused upload.
            assertThat(node.stores().metadata().count(FileQuery.tenant(tenant)).await())
                    .isZero();
            stores.startQdrant();
            // No recovery sweep: the node undoes the upload itself once Qdrant answers again.
            io.trisync.testsupport.Await.until(
                    "the upload to be undone",
                    15_000,
                    () -> node.stores().operations().countOpen(tenant).await() == 0);
            assertNothingLeft(node.stores(), tenant);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Qdrant down: a delete answers 202 and completes once Qdrant returns")
    void qdrantDownDuringDelete() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String id = http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(50)), null)
                    .bodyAsJsonObject()
                    .getString("id");
            stores.stopQdrant();
            HttpResponse<Buffer> r = http.delete("/api/files/" + id + "?user_id=" + tenant);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("deleting");
            assertThat(http.get("/api/files/" + id + "/content?user_id=" + tenant)
                            .statusCode())
                    .isEqualTo(404);
            stores.startQdrant();
            // No recovery sweep: the deferred delete resumes by itself once Qdrant answers again.
            io.trisync.testsupport.Await.until(
                    "the deferred delete to complete",
                    10_000,
                    () -> node.stores().operations().countOpen(tenant).await() == 0);
            assertThat(node.stores().vectors().count(tenant, id).await()).isZero();
            assertThat(node.stores().operations().countOpen(tenant).await()).isZero();
            assertThat(node.stores()
                            .blobs()
                            .list(tenant + "/", null, 10, false)
                            .await()
                            .items())
                    .isEmpty();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: the upload fails 503 before any store is written")
    void mongoDownRejectsUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopMongo();
            HttpResponse<Buffer> r = http.upload(tenant, "a.txt", "text/plain", utf8("hello"), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
            stores.startMongo();
            awaitMongo(node);
            assertNothingLeft(node.stores(), tenant);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: found once, then every request is 503 at once and /health is fast;"
            + " requests succeed again within seconds of its return")
    void mongoOutageAnsweredFast() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            assertThat(http.get("/api/files?user_id=" + tenant).statusCode()).isEqualTo(200);
            stores.stopMongo();
            // The first call waits for the driver's server selection and finds MongoDB gone.
            assertThat(http.get("/api/files?user_id=" + tenant).statusCode()).isEqualTo(503);
            long slowest = 0;
            for (int i = 0; i < 5; i++) {
                long started = System.nanoTime();
                HttpResponse<Buffer> r = http.get("/api/files?user_id=" + tenant);
                slowest = Math.max(slowest, (System.nanoTime() - started) / 1_000_000);
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.getHeader("Retry-After")).isEqualTo(String.valueOf(Failure.RETRY_AFTER_SECONDS));
            }
            long started = System.nanoTime();
            HttpResponse<Buffer> health = http.get("/health");
            long healthMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.bodyAsJsonObject()
                            .getJsonObject("stores")
                            .getJsonObject("mongodb")
                            .getString("status"))
                    .isEqualTo("DOWN");
            // Bounds far above what the gate takes (milliseconds) and far below the driver's 5 s selection.
            assertThat(slowest)
                    .as("slowest 503 while MongoDB is known down, ms")
                    .isLessThan(2_500);
            assertThat(healthMs).as("/health while MongoDB is known down, ms").isLessThan(2_500);
            stores.startMongo();
            long back = System.nanoTime();
            io.trisync.testsupport.Await.until(
                    "a request to succeed after MongoDB's return",
                    20_000,
                    () -> http.get("/api/files?user_id=" + tenant).statusCode() == 200);
            assertThat((System.nanoTime() - back) / 1_000_000)
                    .as("ms from MongoDB's return to an answered request")
                    .isLessThan(10_000);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: a recovery sweep fails with 503 instead of reporting that it recovered nothing")
    void recoverySweepFailsWhileMongoDown() throws Exception {
        Node node = Node.start(config(), false).await();
        try {
            stores.stopMongo();
            Throwable failure = node.vertx()
                    .eventBus()
                    .<JsonObject>request(
                            IngestAddresses.RECOVER,
                            new JsonObject(),
                            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(30_000))
                    .map(m -> (Throwable) null)
                    .otherwise(e -> e)
                    .await();
            stores.startMongo();
            assertThat(failure).isInstanceOf(io.vertx.core.eventbus.ReplyException.class);
            assertThat(((io.vertx.core.eventbus.ReplyException) failure).failureCode())
                    .isEqualTo(503);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Two nodes recovering at once never process the same operation twice")
    void twoNodesRecoverDisjointly() throws Exception {
        String tenant = TestStack.unique("t");
        Node a = Node.start(config(), false).await();
        Node b = Node.start(config(), false).await();
        MongoClient raw = MongoClient.create(
                a.vertx(), MongoMetadataStore.clientConfig(a.config().mongo()));
        try {
            List<String> opIds = new ArrayList<>();
            Instant old = Instant.now().minusSeconds(600);
            for (int i = 0; i < 30; i++) {
                String fileId = tenant + "-file-" + i;
                IngestOperation op = new IngestOperation(
                        tenant + "-op-" + i,
                        Kind.UPLOAD,
                        tenant,
                        fileId,
                        StoreKeys.partition(fileId, 64),
                        Step.BEGUN,
                        "f.txt",
                        "text/plain",
                        1,
                        "0".repeat(64),
                        null,
                        "gone-node",
                        null,
                        old,
                        old,
                        null,
                        null,
                        null,
                        null);
                a.stores().operations().begin(op).await();
                a.stores()
                        .blobs()
                        .putBytes(op.blobKey(), Buffer.buffer("x"), "text/plain", Map.of())
                        .await();
                opIds.add(op.id());
            }
            Future<JsonObject> fromA = a.vertx()
                    .eventBus()
                    .<JsonObject>request(IngestAddresses.RECOVER, new JsonObject())
                    .map(m -> m.body());
            Future<JsonObject> fromB = b.vertx()
                    .eventBus()
                    .<JsonObject>request(IngestAddresses.RECOVER, new JsonObject())
                    .map(m -> m.body());
            Future.all(fromA, fromB).await();
            assertNothingLeft(a.stores(), tenant);
            for (String id : opIds) {
                JsonObject doc = raw.findOne("ingest_ops", new JsonObject().put("_id", id), null)
                        .await();
                assertThat(doc.getString("step")).isEqualTo("ABORTED");
                assertThat(doc.getInteger("claims")).as("claims of " + id).isEqualTo(1);
            }
        } finally {
            raw.close().await();
            b.stop().await();
            a.stop().await();
        }
    }

    /** A hook that holds the upload after {@code step} until {@code release} completes. */
    private static IngestHooks pauseAfter(Step step, CountDownLatch reached, Promise<Void> release) {
        return (op, done) -> {
            if (op.kind() == Kind.UPLOAD && done == step) {
                reached.countDown();
                return release.future();
            }
            return Future.succeededFuture();
        };
    }

    @Test
    @DisplayName("An upload that outlives the grace period keeps its lease while its node lives: recovery leaves it")
    void slowUploadKeepsItsLease() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        Node slow = Node.start(config(), false, pauseAfter(Step.METADATA_WRITTEN, reached, release))
                .await();
        Node other = Node.start(config(), false).await();
        try {
            Future<HttpResponse<Buffer>> upload = uploadAsync(slow, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            // Three grace periods pass (what is under test is that time passes); both nodes sweep
            // meanwhile and must not touch the upload.
            long until = System.nanoTime() + 3_500_000_000L;
            while (System.nanoTime() < until) {
                sweep(other);
                sweep(slow);
                assertThat(slow.stores().operations().countOpen(tenant).await()).isEqualTo(1);
                Thread.sleep(100);
            }
            assertThat(slow.stores().operations().countOpen(tenant).await()).isEqualTo(1);
            slow.vertx().runOnContext(v -> release.complete());
            HttpResponse<Buffer> response = upload.await();
            assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
            assertComplete(slow.stores(), tenant, bytes);
        } finally {
            other.stop().await();
            slow.stop().await();
        }
    }

    @Test
    @DisplayName("An upload whose operation was taken over by recovery does not commit, and is undone by its claimant")
    void uploadThatLostItsLeaseDoesNotCommit() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        Node node = Node.start(config(), false, pauseAfter(Step.VECTORS_WRITTEN, reached, release))
                .await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            Future<HttpResponse<Buffer>> upload = uploadAsync(node, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            // What a claim by another node's recovery leaves on the operation (its lease since run out).
            JsonObject open = new JsonObject().put("tenantId", tenant).put("terminal", false);
            String opId = raw.findOne("ingest_ops", open, null).await().getString("_id");
            long claimed = raw.updateCollection(
                            "ingest_ops",
                            open,
                            new JsonObject()
                                    .put(
                                            "$set",
                                            new JsonObject()
                                                    .put("leaseOwner", "another-node")
                                                    .put(
                                                            IngestOperation.LEASE_KEY,
                                                            IngestOperation.leaseKey(opId, "another-node"))
                                                    .put(
                                                            "leaseUntil",
                                                            new JsonObject().put("$date", "2000-01-01T00:00:00Z"))
                                                    .put(
                                                            "updatedAt",
                                                            new JsonObject().put("$date", "2000-01-01T00:00:00Z"))))
                    .await()
                    .getDocModified();
            assertThat(claimed).isEqualTo(1);
            node.vertx().runOnContext(v -> release.complete());
            HttpResponse<Buffer> response = upload.await();
            assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(503);
            JsonObject op = raw.findOne("ingest_ops", open, null).await();
            assertThat(op.getString("step"))
                    .as("not committed by the node that lost it")
                    .isEqualTo("BEGUN");
            assertThat(recovered(node, opId).step()).isEqualTo(Step.ABORTED);
            assertNothingLeft(node.stores(), tenant);
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName(
            "An upload recorded by one node's ingest verticle is completed by another's (the bus may route it there)")
    void uploadCompletedByAnotherNode() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        String sha = StoreKeys.sha256Hex(bytes);
        Node a = Node.start(config(), false).await();
        Node b = Node.start(config(), false).await();
        try {
            IngestMessages.UploadTicket ticket = IngestMessages.UploadTicket.fromJson(a.vertx()
                    .eventBus()
                    .<JsonObject>request(
                            IngestAddresses.BEGIN_UPLOAD,
                            new IngestMessages.BeginUpload(
                                            tenant, "doc.txt", "text/plain", bytes.length, sha, null, null, null)
                                    .toJson())
                    .await()
                    .body());
            a.stores()
                    .blobs()
                    .putBytes(ticket.blobKey(), Buffer.buffer(bytes), "text/plain", Map.of("sha256", sha))
                    .await();
            JsonObject file = b.vertx()
                    .eventBus()
                    .<JsonObject>request(
                            IngestAddresses.COMPLETE_UPLOAD,
                            new IngestMessages.OperationRef(ticket.opId(), null, ticket.operation()).toJson())
                    .await()
                    .body();
            assertThat(file.getString("_id")).isEqualTo(ticket.fileId());
            assertComplete(b.stores(), tenant, bytes);
        } finally {
            b.stop().await();
            a.stop().await();
        }
    }
}
