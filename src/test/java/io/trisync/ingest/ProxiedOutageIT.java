package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TcpProxy;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each store cut off by stopping a real TCP proxy in front of it (the node's connections are reset
 * and new ones refused), then brought back: uploads are refused fast while it is away, succeed within
 * 2 s of its return, and a delete answered 202 during the outage completes within 10 s of it, with no
 * recovery sweep (the node runs with the default 120 s recovery grace).
 */
@Timeout(300)
class ProxiedOutageIT {

    private static RestartableStores stores;
    private static Node node;

    @BeforeAll
    static void start() throws Exception {
        stores = RestartableStores.proxied();
        // Refused uploads come back fast and are sent again at once: hundreds a second across the
        // cuts, which the default per-caller limit (1,200 a minute) would answer 429.
        node = Node.start(stores.nodeConfig(Map.of("API_RATE_LIMIT_PER_MINUTE", "1000000")), false)
                .await();
    }

    @AfterAll
    static void stop() throws Exception {
        node.stop().await();
        stores.close();
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("MongoDB lost right after an upload's commit, before its events: the client is told it failed,"
            + " the upload is not undone, and its events are logged once MongoDB is back, without a sweep")
    void outageAfterTheCommit() throws Exception {
        String tenant = TestStack.unique("c");
        TcpProxy mongo = stores.proxy("mongodb");
        AtomicReference<String> committed = new AtomicReference<>();
        IngestHooks cutAfterCommit = (op, step) -> {
            if (op.tenantId().equals(tenant) && op.kind() == Kind.UPLOAD && step == Step.COMMITTED) {
                committed.set(op.id());
                // Cut off the event loop (the proxy's cut waits for its sockets to close).
                return io.vertx.core.Future.<Void>fromCompletionStage(
                        CompletableFuture.runAsync(mongo::cut), io.vertx.core.Vertx.currentContext());
            }
            return io.vertx.core.Future.succeededFuture();
        };
        Node cutting =
                Node.start(stores.nodeConfig(Map.of()), false, cutAfterCommit).await();
        try (Http http = new Http(cutting.vertx(), cutting.httpPort())) {
            byte[] bytes = text(Fixtures.prose(40));
            HttpResponse<Buffer> failed = http.upload(tenant, "late.txt", "text/plain", bytes, null);
            assertThat(failed.statusCode())
                    .as("events not logged: %s", failed.bodyAsString())
                    .isEqualTo(503);
            mongo.restore();
            IngestFaultFixture.awaitMongo(cutting);
            String opId = committed.get();
            Await.until(
                    "the committed upload to end once MongoDB is back",
                    30_000,
                    () -> cutting.stores().operations().get(opId).await().step() == Step.DONE);
            IngestOperation op = cutting.stores().operations().get(opId).await();
            FileRecord file = cutting.stores().metadata().get(op.fileId()).await();
            assertThat(file.status()).as("kept, not undone").isEqualTo(FileRecord.Status.ACTIVE);
            assertThat(cutting.stores().vectors().count(tenant, op.fileId()).await())
                    .isPositive();
            assertThat(cutting.stores().blobs().getBytes(op.blobKey()).await().getBytes())
                    .isEqualTo(bytes);
            assertThat(cutting.stores().events().recent(tenant, 10).await())
                    .as("its events, once")
                    .extracting(Event::type)
                    .containsExactlyInAnyOrder("file.uploaded", "embedding.created");
        } finally {
            mongo.restore();
            cutting.stop().await();
        }
    }

    @ParameterizedTest(name = "its completion then {0}")
    @ValueSource(strings = {"commits", "fails"})
    @DisplayName("MongoDB lost while an upload outlives its answer's deadline: its 202's promise cannot be recorded,"
            + " so the client is answered 503 in JSON, and the upload then ends unpromised, whole or undone")
    void promiseNotRecorded(String then) throws Exception {
        String tenant = TestStack.unique("p");
        TcpProxy mongo = stores.proxy("mongodb");
        AtomicReference<String> held = new AtomicReference<>();
        io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
        IngestHooks cutAndHold = (op, step) -> {
            if (op.tenantId().equals(tenant) && op.kind() == Kind.UPLOAD && step == Step.BLOB_WRITTEN) {
                held.set(op.id());
                // At the start of its completion, a second before its answer is due: MongoDB is cut
                // (off the event loop; the cut waits for its sockets to close) and the upload is held
                // past the deadline, so the promise's write finds MongoDB away.
                return io.vertx.core.Future.<Void>fromCompletionStage(
                                CompletableFuture.runAsync(mongo::cut), io.vertx.core.Vertx.currentContext())
                        .compose(v -> release.future());
            }
            return io.vertx.core.Future.succeededFuture();
        };
        Node holding = Node.start(stores.nodeConfig(Map.of("INGEST_ANSWER_WITHIN_SECONDS", "1")), false, cutAndHold)
                .await();
        try (Http http = new Http(holding.vertx(), holding.httpPort())) {
            byte[] bytes = text(Fixtures.prose(40));
            HttpResponse<Buffer> refused = http.upload(tenant, "unpromised.txt", "text/plain", bytes, null);
            assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
            assertThat(refused.getHeader("Content-Type")).startsWith("application/json");
            assertThat(refused.getHeader("Retry-After")).isNotNull();
            JsonObject body = refused.bodyAsJsonObject();
            assertThat(body.getString("error")).isEqualTo("unavailable");
            assertThat(body.getString("message"))
                    .contains("operation " + held.get())
                    .contains("could not be recorded as accepted");
            mongo.restore();
            IngestFaultFixture.awaitMongo(holding);
            String opId = held.get();
            IngestOperation unpromised = holding.stores().operations().get(opId).await();
            assertThat(unpromised.promised()).as("a promise recorded for a 503").isFalse();
            assertThat(unpromised.step().terminal())
                    .as("still held by its flow")
                    .isFalse();
            holding.vertx().runOnContext(v -> {
                if (then.equals("commits")) {
                    release.complete();
                } else {
                    release.fail(new Failure.Unavailable("qdrant", "cut by the test", null));
                }
            });
            Await.until(
                    "the upload's flow to end operation " + opId,
                    30_000,
                    () -> holding.stores().operations().get(opId).await().step().terminal());
            IngestOperation ended = holding.stores().operations().get(opId).await();
            assertThat(ended.promised()).isFalse();
            if (then.equals("commits")) {
                assertThat(ended.step()).isEqualTo(Step.DONE);
                assertThat(IngestFaultFixture.assertComplete(holding.stores(), tenant, bytes)
                                .id())
                        .isEqualTo(ended.fileId());
                assertThat(IngestFaultFixture.eventTypes(holding.stores(), tenant))
                        .containsExactlyInAnyOrder("file.uploaded", "embedding.created");
            } else {
                // Not promised: undone, not rolled forward, although its blob is whole in S3.
                assertThat(ended.step()).isEqualTo(Step.ABORTED);
                IngestFaultFixture.assertNothingLeft(holding.stores(), tenant);
                assertThat(IngestFaultFixture.eventTypes(holding.stores(), tenant))
                        .isEmpty();
            }
        } finally {
            mongo.restore();
            release.tryFail("test over");
            holding.stop().await();
        }
    }

    @Test
    @DisplayName("A new version answered 202 completing whose completion fails while S3 is away: its node's roll"
            + " forward fails too, and its retry rolls it forward once S3 is back, not undoing it")
    void promisedVersionRolledForwardAsS3Returns() throws Exception {
        String tenant = TestStack.unique("v");
        TcpProxy s3 = stores.proxy("s3");
        CountDownLatch reached = new CountDownLatch(1);
        AtomicReference<String> held = new AtomicReference<>();
        io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
        Node holding = Node.start(
                        stores.nodeConfig(Map.of("INGEST_ANSWER_WITHIN_SECONDS", "1")),
                        false,
                        IngestFaultFixture.pauseAfter(Kind.REPLACE, Step.BLOB_WRITTEN, reached, release, held))
                .await();
        try (Http http = new Http(holding.vertx(), holding.httpPort())) {
            byte[] before = text("The old version. " + Fixtures.prose(60));
            byte[] after = text("The new version. " + Fixtures.prose(40));
            HttpResponse<Buffer> uploaded = http.upload(tenant, "doc.txt", "text/plain", before, null);
            assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isIn(201, 202);
            String id = uploaded.bodyAsJsonObject().getString("id");
            Await.until(
                    "the first version to be stored",
                    60_000,
                    () -> holding.stores().operations().countOpen(tenant).await() == 0);
            HttpResponse<Buffer> answer = http.replace(
                    "/api/files/" + id + "/content?user_id=" + tenant, "doc.txt", "text/plain", after, null);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(202);
            String opId = held.get();
            assertThat(holding.stores().operations().get(opId).await().promised())
                    .isTrue();

            s3.cut();
            holding.vertx().runOnContext(v -> release.fail(new Failure.Unavailable("qdrant", "cut by the test", null)));
            // The failure is noted on the operation; its node's roll forward then finds S3 away, and a
            // retry takes the operation (a new lease: nothing else renews it now).
            Await.until("the failure to be noted on operation " + opId, 30_000, () -> String.valueOf(
                            holding.stores().operations().get(opId).await().lastError())
                    .contains("cut by the test"));
            java.time.Instant noted =
                    holding.stores().operations().get(opId).await().leaseUntil();
            Await.until("a retry to take operation " + opId + " while S3 is away", 60_000, () -> holding.stores()
                    .operations()
                    .get(opId)
                    .await()
                    .leaseUntil()
                    .isAfter(noted));
            assertThat(holding.stores().operations().get(opId).await().step().terminal())
                    .isFalse();
            s3.restore();

            Await.until(
                    "the retry to end operation " + opId + " once S3 is back",
                    60_000,
                    () -> holding.stores().operations().get(opId).await().step().terminal());
            assertThat(holding.stores().operations().get(opId).await().step())
                    .as("operation %s of the new version answered 202", opId)
                    .isEqualTo(Step.DONE);
            Await.until("the index queue to make the points of " + id, 60_000, () -> !holding.stores()
                    .metadata()
                    .get(id)
                    .await()
                    .embedding()
                    .pending());
            TenantFiles.assertOnlyVersion(holding.stores(), tenant, id, after);
            assertThat(holding.stores().metadata().get(id).await().contentVersion())
                    .isEqualTo(2);
            assertThat(TenantFiles.staged(holding.stores(), tenant)).isEmpty();
            assertThat(holding.stores().events().ofFile(tenant, id, 50).await().stream()
                            .map(Event::type)
                            .toList())
                    .containsOnlyOnce("file.updated", "embedding.pending");
        } finally {
            s3.restore();
            release.tryFail("test over");
            holding.stop().await();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"s3", "qdrant", "mongodb"})
    @DisplayName("A store behind a stopped proxy: uploads 503 fast, back within 2 s of its return; deletes finish")
    void outage(String store) throws Exception {
        String tenant = TestStack.unique("o");
        TcpProxy proxy = stores.proxy(store);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            HttpResponse<Buffer> kept = http.upload(tenant, "kept.txt", "text/plain", text(Fixtures.prose(40)), null);
            assertThat(kept.statusCode()).as(kept.bodyAsString()).isEqualTo(201);
            String keptId = kept.bodyAsJsonObject().getString("id");
            // Without S3 a new version's bytes cannot be put either: its receiving node aborts it.
            String versionedId = null;
            if (store.equals("s3")) {
                HttpResponse<Buffer> versioned =
                        http.upload(tenant, "versioned.txt", "text/plain", text(Fixtures.prose(35)), null);
                assertThat(versioned.statusCode()).as(versioned.bodyAsString()).isEqualTo(201);
                versionedId = versioned.bodyAsJsonObject().getString("id");
            }

            proxy.cut();
            if (versionedId != null) {
                HttpResponse<Buffer> replaced = http.replace(
                        "/api/files/" + versionedId + "/content?user_id=" + tenant,
                        "versioned.txt",
                        "text/plain",
                        text(Fixtures.prose(45)),
                        null);
                assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(503);
            }
            HttpResponse<Buffer> first = http.upload(tenant, "a.txt", "text/plain", text(Fixtures.prose(30)), null);
            assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(503);
            long slowest = 0;
            for (int i = 0; i < 3; i++) {
                long started = System.nanoTime();
                HttpResponse<Buffer> refused =
                        http.upload(tenant, "b" + i + ".txt", "text/plain", text(Fixtures.prose(30)), null);
                long tookMs = (System.nanoTime() - started) / 1_000_000;
                assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
                assertThat(refused.getHeader("Retry-After")).isEqualTo(String.valueOf(Failure.RETRY_AFTER_SECONDS));
                assertThat(tookMs)
                        .as("ms for a 503 while " + store + " is known down")
                        .isLessThan(1_000);
                slowest = Math.max(slowest, tookMs);
            }
            HttpResponse<Buffer> deleted = http.delete("/api/files/" + keptId + "?user_id=" + tenant);
            boolean deferred = deleted.statusCode() == 202;
            if (store.equals("mongodb")) {
                // Without MongoDB nothing can be recorded, so nothing is promised.
                assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(503);
            } else {
                assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(202);
            }

            proxy.restore();
            long back = System.nanoTime();
            Await.until(
                    "an upload to succeed after " + store + " returned",
                    10_000,
                    () -> http.upload(tenant, "c.txt", "text/plain", text(Fixtures.prose(30)), null)
                                    .statusCode()
                            == 201);
            long uploadMs = (System.nanoTime() - back) / 1_000_000;
            System.out.printf(
                    "outage of %s: slowest known-down 503 %d ms, first stored upload %d ms after its return%n",
                    store, slowest, uploadMs);
            assertThat(uploadMs)
                    .as("ms from " + store + "'s return to a stored upload")
                    .isLessThan(2_000);
            if (deferred) {
                String deleteOp = deleted.bodyAsJsonObject().getString("operation_id");
                Await.until(
                        "the delete answered 202 to complete",
                        10_000,
                        () -> node.stores().operations().get(deleteOp).await().step() == Step.DONE);
                long deleteMs = (System.nanoTime() - back) / 1_000_000;
                System.out.printf("outage of %s: the 202 delete ended %d ms after its return%n", store, deleteMs);
                assertThat(deleteMs)
                        .as("ms from " + store + "'s return to the delete's end")
                        .isLessThan(10_000);
                assertThat(node.stores().vectors().count(tenant, keptId).await())
                        .isZero();
                assertThat(node.stores()
                                .blobs()
                                .list(tenant + "/" + keptId, null, 10, false)
                                .await()
                                .items())
                        .isEmpty();
            }
            if (versionedId != null) {
                // The upload and the new version S3 refused were aborted; their undo, which needs S3
                // too, is tried again as it returns rather than after recovery's grace (120 s).
                Await.until(
                        "every operation S3 refused undone",
                        10_000,
                        () -> node.stores().operations().countOpen(tenant).await() == 0);
                assertThat(node.stores().metadata().get(versionedId).await().contentVersion())
                        .as("the refused new version left the file as it was")
                        .isEqualTo(1);
            }
            // The uploads refused during the outage left no active record (recovery undoes what an
            // upload wrote before it was refused, after its grace): the kept file unless deleted, the
            // versioned file, and the upload made after the return.
            assertThat(node.stores()
                            .metadata()
                            .count(new FileQuery(tenant, null, FileRecord.Status.ACTIVE))
                            .await())
                    .isEqualTo((deferred ? 1 : 2) + (versionedId != null ? 1 : 0));
        } finally {
            proxy.restore();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qdrant", "s3"})
    @DisplayName("Sixteen clients uploading while a store is cut and restored under them (writes of concurrent"
            + " uploads share round trips): every 201 is whole in all three stores, every refused upload leaves"
            + " nothing")
    void concurrentUploadsAcrossACut(String store) throws Exception {
        String tenant = TestStack.unique("g");
        TcpProxy proxy = stores.proxy(store);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                int client = c;
                running.add(clients.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        HttpResponse<Buffer> r = http.upload(
                                tenant,
                                "c" + client + "-" + i + ".txt",
                                "text/plain",
                                text(Fixtures.prose(25) + " client " + client + " file " + i),
                                null);
                        if (r.statusCode() == 201) {
                            acknowledged.add(r.bodyAsJsonObject().getString("id"));
                        } else {
                            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            Await.until("32 uploads acknowledged", 60_000, () -> acknowledged.size() >= 32);
            proxy.cut();
            Await.until("uploads refused while " + store + " is away", 60_000, () -> refused.get() >= 16);
            proxy.restore();
            int atReturn = acknowledged.size();
            Await.until(
                    "32 more uploads acknowledged after " + store + "'s return",
                    60_000,
                    () -> acknowledged.size() >= atReturn + 32);
            stop.set(true);
            for (var f : running) {
                f.get();
            }
            // Refused uploads are undone as the cut store answers again (each retries its undo within
            // seconds; an S3 put refused is undone by its abort, retried while S3 was away).
            Await.until(
                    "every refused upload undone",
                    30_000,
                    () -> node.stores().operations().countOpen(tenant).await() == 0);

            Set<String> active = new HashSet<>();
            String after = null;
            do {
                var page = node.stores()
                        .metadata()
                        .list(new FileQuery(tenant, null, FileRecord.Status.ACTIVE), after, 500)
                        .await();
                page.items().forEach(f -> active.add(f.id()));
                after = page.next();
            } while (after != null);
            Set<String> blobs = new HashSet<>(); // file ids
            String marker = null;
            do {
                var page = node.stores()
                        .blobs()
                        .list(tenant + "/", marker, 1000, false)
                        .await();
                page.items().forEach(b -> blobs.add(b.key().substring(b.key().lastIndexOf('/') + 1)));
                marker = page.next();
            } while (marker != null);
            Set<String> embedded = new HashSet<>();
            String offset = null;
            do {
                var page = node.stores()
                        .vectors()
                        .scroll(tenant, null, offset, 1000)
                        .await();
                page.items().forEach(p -> embedded.add(p.fileId()));
                offset = page.next();
            } while (offset != null);

            System.out.printf(
                    "across a cut of %s: %d uploads acknowledged, %d refused%n",
                    store, acknowledged.size(), refused.get());
            assertThat(refused.get()).isPositive();
            assertThat(active)
                    .as("active records: exactly the acknowledged uploads")
                    .isEqualTo(acknowledged);
            assertThat(embedded)
                    .as("files with points: exactly the acknowledged uploads")
                    .isEqualTo(acknowledged);
            assertThat(blobs).as("blobs: exactly the acknowledged uploads'").isEqualTo(acknowledged);
        } finally {
            stop.set(true);
            clients.shutdownNow();
            proxy.restore();
        }
    }
}
