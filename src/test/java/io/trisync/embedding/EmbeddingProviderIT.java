package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.events.EventTypes;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.ChunkPoint;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.ReindexCheckpoints;
import io.trisync.store.SyncOperation;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code EMBEDDING_PROVIDER=openai} against an OpenAI-compatible server started by the test on
 * loopback ({@link EmbeddingServer}): batches, the model's identity on files and points, retries
 * through refusals, answers that are checked, and a model change that the scan reports.
 */
@Timeout(180)
class EmbeddingProviderIT {

    private final EmbeddingServer server = new EmbeddingServer(384);
    private final String tenant = TestStack.unique("embed");
    /**
     * A database of this test's own: every ingest node works the index queue of its database, and a
     * node of another class on the shared stack (one kept for the whole JVM) would otherwise take this
     * test's pending jobs and embed them with its own model.
     */
    private final String database = TestStack.unique("embedding-provider");

    private Node node;
    private Http http;

    @BeforeEach
    void start() {
        node = start("test-embed-1");
    }

    @AfterEach
    void stop() {
        if (http != null) {
            http.close();
        }
        if (node != null) {
            node.stop().await();
        }
        server.close();
    }

    private Node start(String model) {
        return start(model, Map.of(), IngestHooks.NONE);
    }

    private Node start(String model, Map<String, String> settings, IngestHooks hooks) {
        Map<String, String> env = new HashMap<>();
        // The test's database fixes its partition count at its first node: a test of another count
        // works on a database of its own (named after the count).
        env.put(
                "MONGO_DB",
                settings.containsKey("SYNC_PARTITIONS") ? database + "_p" + settings.get("SYNC_PARTITIONS") : database);
        env.putAll(server.nodeEnv(model));
        env.put("EMBEDDING_BATCH_SIZE", "3");
        env.putAll(settings);
        Node started = Node.start(TestStack.nodeConfig(env), false, hooks).await();
        if (http != null) {
            http.close();
        }
        http = new Http(started.vertx(), started.httpPort());
        return started;
    }

    @Test
    @DisplayName("Uploads are embedded through the provider in batches; files and points carry its model and dimension")
    void uploadsEmbeddedInBatches() {
        HttpResponse<Buffer> r = upload(Fixtures.prose(1000));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        String id = r.bodyAsJsonObject().getString("id");
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(file.embedding().model()).isEqualTo("test-embed-1@384");
        int chunks = file.embedding().chunks();
        assertThat(chunks).isGreaterThan(3);
        assertThat(server.batches())
                .as("texts per request")
                .allMatch(n -> n <= 3)
                .hasSize((chunks + 2) / 3);
        List<ChunkPoint> points = node.stores().vectors().pointsOf(tenant, id).await();
        assertThat(points).hasSize(chunks).allMatch(p -> p.model().equals("test-embed-1@384"));
        assertThat(analyze().getJsonArray("issues")).isEmpty();
    }

    @Test
    @DisplayName(
            "Uploads that reach indexing together are embedded in one call; a file the provider refuses is kept without search, alone, and the others get their vectors")
    void uploadsIndexedTogether() {
        node.stop().await();
        AtomicInteger verified = new AtomicInteger();
        // One ingest verticle: every upload meets the same indexing queue.
        node = start("test-embed-1", Map.of("HTTP_INSTANCES", "1", "EMBEDDING_BATCH_SIZE", "16"), (op, step) -> {
            if (step == IngestOperation.Step.BLOB_WRITTEN) {
                verified.incrementAndGet();
            }
            return Future.succeededFuture();
        });
        server.hold();
        // A thread for each upload: the common pool may have a single one on two cores.
        ExecutorService clients = Executors.newFixedThreadPool(5);
        CompletableFuture<HttpResponse<Buffer>> lead =
                CompletableFuture.supplyAsync(() -> upload("the lead upload, indexed alone"), clients);
        Await.until("the lead upload's embedding request", 30_000, () -> server.held() == 1);
        server.refuseTextsWith("REFUSED");
        List<String> texts = new ArrayList<>();
        // Four members and the lead: the test's client holds five connections.
        for (int i = 0; i < 4; i++) {
            texts.add("cohort member " + i + (i == 2 ? " REFUSED by the provider" : " with its own words"));
        }
        List<CompletableFuture<HttpResponse<Buffer>>> members = texts.stream()
                .map(text -> CompletableFuture.supplyAsync(() -> upload(text), clients))
                .toList();
        // Every member has its blob verified, the step before indexing, while the lead's call is held.
        Await.until("the members to wait for indexing", 30_000, () -> verified.get() == 1 + texts.size());
        server.release();

        assertThat(lead.join().statusCode()).isEqualTo(201);
        Map<String, String> ids = new HashMap<>();
        for (int i = 0; i < texts.size(); i++) {
            HttpResponse<Buffer> r = members.get(i).join();
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            ids.put(texts.get(i), r.bodyAsJsonObject().getString("id"));
        }
        clients.shutdown();
        assertThat(server.requests())
                .as("the members' texts in one request (refused for the one text), then each alone")
                .anyMatch(request -> Set.copyOf(request).equals(Set.copyOf(texts)))
                .hasSize(1 + 1 + texts.size());
        for (String text : texts) {
            String id = ids.get(text);
            FileRecord file = node.stores().metadata().get(id).await();
            long points = node.stores().vectors().count(tenant, id).await();
            if (text.contains("REFUSED")) {
                assertThat(file.embedding().failure())
                        .as("the refused member's record")
                        .contains("refused");
                assertThat(points).as("points of the refused member").isZero();
            } else {
                assertThat(file.embedding().failure()).as("%s", text).isNull();
                assertThat(points)
                        .as("points of %s", text)
                        .isEqualTo(file.embedding().chunks())
                        .isPositive();
            }
        }
        String refused = ids.get(texts.get(2));
        assertThat(analyze().getJsonArray("issues"))
                .as("the scan's issues: the refused file kept without search, and nothing else")
                .singleElement()
                .satisfies(issue -> {
                    JsonObject found = (JsonObject) issue;
                    assertThat(found.getString("type")).isEqualTo("EMBEDDING_FAILED");
                    assertThat(found.getString("file_id")).isEqualTo(refused);
                });
    }

    @Test
    @DisplayName("A provider that answers 503 for a while is retried (after its Retry-After) and the upload succeeds")
    void retriedThroughRefusals() {
        server.refuse(503);
        CompletableFuture<HttpResponse<Buffer>> pending =
                CompletableFuture.supplyAsync(() -> upload(Fixtures.prose(100)));
        Await.until("the provider to refuse a request", 30_000, () -> server.refused() >= 1);
        server.refuse(0);
        HttpResponse<Buffer> r = pending.join();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    }

    @Test
    @DisplayName(
            "While the provider is down uploads are kept as pending (202); when it answers again each file gets its vectors and one embedding.created")
    void pendingWhileProviderDown() {
        server.refuse(503);
        List<String> ids = new ArrayList<>();
        long quick = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t = System.nanoTime();
            HttpResponse<Buffer> r = upload(Fixtures.prose(300) + " " + i);
            if (i > 0) {
                quick = Math.min(quick, (System.nanoTime() - t) / 1_000_000);
            }
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            assertThat(r.bodyAsJsonObject().getString("indexing")).isEqualTo("pending");
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        assertThat(quick)
                .as("ms for an upload while the provider counts as down (its breaker open)")
                .isLessThan(3000);
        // Each upload is answered before its operation's end is recorded; file_status counts it until then.
        Await.until(
                "the uploads' operations to end",
                10_000,
                () -> node.stores().operations().countOpen(tenant).await() == 0);
        JsonObject status = fileStatus();
        assertThat(status.getLong("pending") + status.getLong("processing"))
                .as("file_status while the provider is down: %s", status)
                .isEqualTo(3);
        assertThat(analyze().getJsonArray("issues"))
                .as("a scan while the vectors are pending")
                .isEmpty();
        for (String id : ids) {
            assertThat(node.stores().vectors().count(tenant, id).await()).isZero();
        }

        server.refuse(0);
        Await.until(
                "every pending file to be indexed", 60_000, () -> ids.stream().allMatch(id -> "indexed"
                        .equals(Http.json(http.get("/api/files/" + id + "?user_id=" + tenant))
                                .getString("indexing"))));
        for (String id : ids) {
            FileRecord file = node.stores().metadata().get(id).await();
            assertThat(file.embedding().chunks()).isPositive();
            assertThat(node.stores().vectors().count(tenant, id).await())
                    .isEqualTo(file.embedding().chunks());
            assertThat(node.stores().indexQueue().get(id).await())
                    .as("the job of %s", id)
                    .isNull();
        }
        // Each record says indexed before its embedding.created is logged (the worker patches, then publishes).
        Map<String, Integer> created = new HashMap<>();
        Await.until("embedding.created of every file", 30_000, () -> {
            created.clear();
            for (Event e : node.stores().events().since(tenant, 0, 1000).await()) {
                if ("embedding.created".equals(e.type())) {
                    created.merge(e.fileId(), 1, Integer::sum);
                }
            }
            return created.keySet().containsAll(ids);
        });
        assertThat(created).as("embedding.created per file").containsOnlyKeys(ids);
        assertThat(created.values()).as("embedding.created per file").containsOnly(1);
        JsonObject after = fileStatus();
        assertThat(after.getLong("pending")).isZero();
        assertThat(after.getLong("total")).isEqualTo(3);
        assertThat(analyze().getJsonArray("issues")).isEmpty();
    }

    @Test
    @DisplayName("The index queue leaves a pending file alone until its upload commits: no vectors and no"
            + " embedding.created before file.uploaded, and it is embedded once the upload committed")
    void indexJobWaitsForItsUploadsCommit() {
        indexJobWaitsForItsUpload(IngestOperation.Step.VECTORS_WRITTEN);
    }

    @Test
    @DisplayName("The index queue leaves a pending file alone while its upload has committed but not logged its"
            + " events (as when its node falls there and recovery logs them): embedding.created still follows"
            + " file.uploaded")
    void indexJobWaitsForItsUploadsEvents() {
        indexJobWaitsForItsUpload(IngestOperation.Step.COMMITTED);
    }

    /** A pending upload held just after {@code held}, its index job due and the provider answering. */
    private void indexJobWaitsForItsUpload(IngestOperation.Step held) {
        node.stop().await();
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        node = start("test-embed-1", Map.of(), (op, step) -> {
            if (op.kind() == IngestOperation.Kind.UPLOAD && step == held) {
                reached.countDown();
                return release.future();
            }
            return Future.succeededFuture();
        });
        server.refuse(503);
        CompletableFuture<HttpResponse<Buffer>> answer =
                CompletableFuture.supplyAsync(() -> upload(Fixtures.prose(200)));
        Await.until("the pending upload to stop after " + held, 30_000, () -> reached.getCount() == 0);
        String id = node.stores()
                .metadata()
                .list(FileQuery.tenant(tenant), null, 10)
                .await()
                .items()
                .get(0)
                .id();
        IndexJob queued = node.stores().indexQueue().get(id).await();
        assertThat(queued).as("the upload's index job").isNotNull();
        // The provider answers again: only the upload not ended yet keeps the worker from the file.
        server.refuse(0);
        Instant[] seen = {queued.nextAttemptAt()};
        for (int i = 0; i < 2; i++) {
            Await.until("the worker to put the job off (" + (i + 1) + ")", 30_000, () -> {
                IndexJob job = node.stores().indexQueue().get(id).await();
                assertThat(job)
                        .as("the job of the uncommitted upload, still queued")
                        .isNotNull();
                assertThat(job.attempts()).as("put off, not tried").isZero();
                boolean later = job.nextAttemptAt().isAfter(seen[0]);
                seen[0] = job.nextAttemptAt();
                return later;
            });
        }
        assertThat(node.stores().vectors().count(tenant, id).await()).isZero();
        assertThat(node.stores().events().ofFile(tenant, id, 20).await()).isEmpty();

        node.vertx().runOnContext(v -> release.complete());
        HttpResponse<Buffer> r = answer.join();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
        Await.until("the file to be indexed after its commit", 30_000, () -> "indexed"
                .equals(Http.json(http.get("/api/files/" + id + "?user_id=" + tenant))
                        .getString("indexing")));
        // The record says indexed before embedding.created is logged (the worker patches, then publishes).
        List<String> events = new ArrayList<>();
        Await.until("embedding.created to be logged", 30_000, () -> {
            events.clear();
            // In the order they were logged (the store answers newest first).
            node.stores().events().ofFile(tenant, id, 20).await().forEach(e -> events.add(0, e.type()));
            return events.contains(EventTypes.EMBEDDING_CREATED);
        });
        assertThat(events.indexOf(EventTypes.EMBEDDING_CREATED))
                .as("embedding.created after file.uploaded: %s", events)
                .isGreaterThan(events.indexOf(EventTypes.FILE_UPLOADED));
        assertThat(events).containsOnlyOnce(EventTypes.EMBEDDING_CREATED);
    }

    @Test
    @DisplayName(
            "An index job whose embedding hangs holds up no upload: every upload on every ingest verticle is answered 201 meanwhile")
    void slowIndexJobHoldsNoUpload() {
        // The embedding pool has a thread per core: on one core the held job takes the only one.
        Assumptions.assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two cores");
        node.stop().await();
        // Uploads answer 202 `completing` after 3 s instead of 201: one held behind the index job says so.
        node = start("test-embed-1", Map.of("INGEST_ANSWER_WITHIN_SECONDS", "3"), IngestHooks.NONE);
        String marker = "slowjob" + new Random().nextInt(1_000_000);
        HttpResponse<Buffer> first = upload(Fixtures.prose(40) + " " + marker);
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(201);
        String id = first.bodyAsJsonObject().getString("id");
        // Its vectors to be made again from the queue, by a provider that holds that text's request.
        server.holdTextsWith(marker);
        try {
            indexAgainFromQueue(id);
            Await.until("the index job's request to be held", 30_000, () -> server.held() >= 1);
            // Uploads meet every ingest verticle (the bus sends round-robin), the index worker's among them.
            for (int i = 0; i < 8; i++) {
                HttpResponse<Buffer> r = upload(Fixtures.prose(40) + " meanwhile " + i);
                assertThat(r.statusCode())
                        .as("upload %d while the index job's embedding hangs: %s", i, r.bodyAsString())
                        .isEqualTo(201);
            }
            assertThat(server.held()).as("the index job's request, still held").isGreaterThanOrEqualTo(1);
        } finally {
            server.release();
        }
        Await.until("the held file to be indexed", 60_000, () -> "indexed"
                .equals(Http.json(http.get("/api/files/" + id + "?user_id=" + tenant))
                        .getString("indexing")));
    }

    @Test
    @DisplayName(
            "An index job keeps its lease while the file's vectors take longer than it: no other worker embeds the file again")
    void indexLeaseRenewedWhileEmbedding() {
        node.stop().await();
        // Two nodes on the same stores, each with its index worker; a 2 s lease; a provider that takes 6 s.
        Map<String, String> shortLease = Map.of("INGEST_RECOVERY_GRACE_SECONDS", "2");
        node = start("test-embed-1", shortLease, IngestHooks.NONE);
        Map<String, String> env = new HashMap<>(server.nodeEnv("test-embed-1"));
        env.put("MONGO_DB", database);
        env.put("EMBEDDING_BATCH_SIZE", "3");
        env.putAll(shortLease);
        Node other = Node.start(TestStack.nodeConfig(env), false).await();
        try {
            leaseRenewedWhileEmbedding();
        } finally {
            other.stop().await();
        }
    }

    private void leaseRenewedWhileEmbedding() {
        String marker = "leasemarker" + new Random().nextInt(1_000_000);
        HttpResponse<Buffer> r = upload(Fixtures.prose(40) + " " + marker);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        String id = r.bodyAsJsonObject().getString("id");
        // Its vectors to be made again from the queue (as after a model change), by a provider that now
        // takes 6 s; the breaker is closed, so every worker that takes the job reaches the provider.
        server.delay(6_000);
        indexAgainFromQueue(id);
        Set<String> holders = new TreeSet<>();
        Await.until("the file to be indexed", 60_000, () -> {
            IndexJob job = node.stores().indexQueue().get(id).await();
            if (job != null && job.leaseOwner() != null) {
                holders.add(job.leaseOwner());
            }
            return "indexed"
                    .equals(Http.json(http.get("/api/files/" + id + "?user_id=" + tenant))
                            .getString("indexing"));
        });
        assertThat(holders)
                .as("workers that held the job while its 6 s embedding ran (a 2 s lease)")
                .hasSize(1);
        assertThat(node.stores().vectors().count(tenant, id).await())
                .isEqualTo(node.stores().metadata().get(id).await().embedding().chunks());
    }

    @Test
    @DisplayName(
            "A new version while the provider is down commits as pending (202); its vectors follow from the queue, made from the new bytes")
    void newVersionWhileProviderDown() {
        HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " first version");
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        String id = r.bodyAsJsonObject().getString("id");
        byte[] next = Fixtures.utf8(Fixtures.prose(120) + " second version");
        server.refuse(503);
        HttpResponse<Buffer> put =
                http.replace("/api/files/" + id + "/content?user_id=" + tenant, "doc.txt", "text/plain", next, null);
        assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(202);
        assertThat(put.bodyAsJsonObject().getString("indexing")).isEqualTo("pending");
        assertThat(put.bodyAsJsonObject().getString("sha256")).isEqualTo(Fixtures.sha256(next));
        assertThat(node.stores().vectors().count(tenant, id).await())
                .as("the old version's points are gone")
                .isZero();
        assertThat(node.stores().indexQueue().get(id).await()).as("the job").isNotNull();
        assertThat(analyze().getJsonArray("issues")).as("a scan while pending").isEmpty();

        server.refuse(0);
        Await.until("the new version to be indexed", 60_000, () -> "indexed"
                .equals(Http.json(http.get("/api/files/" + id + "?user_id=" + tenant))
                        .getString("indexing")));
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(file.sha256()).isEqualTo(Fixtures.sha256(next));
        assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                .hasSize(file.embedding().chunks())
                .allMatch(p -> p.contentSha256().equals(Fixtures.sha256(next)));
        assertThat(analyze().getJsonArray("issues")).isEmpty();
    }

    @Test
    @DisplayName("A pending file whose queue entry is gone is reported MISSING_VECTORS")
    void pendingWithoutJobIsMissing() {
        server.refuse(503);
        HttpResponse<Buffer> r = upload(Fixtures.prose(100));
        assertThat(r.statusCode()).isEqualTo(202);
        String id = r.bodyAsJsonObject().getString("id");
        node.stores().indexQueue().remove(id).await();
        JsonObject report = analyze();
        assertThat(report.getJsonArray("issues")).hasSize(1);
        assertThat(report.getJsonArray("issues").getJsonObject(0).getString("type"))
                .isEqualTo("MISSING_VECTORS");
    }

    @Test
    @DisplayName("Vectors of the wrong dimension are never written: the file waits as pending with that reason")
    void wrongDimensionRefused() {
        server.wrongDimension(true);
        HttpResponse<Buffer> r = upload(Fixtures.prose(100));
        assertThat(r.statusCode()).isEqualTo(202);
        String id = r.bodyAsJsonObject().getString("id");
        Await.until("the index queue to try the file again", 30_000, () -> {
            IndexJob job = node.stores().indexQueue().get(id).await();
            return job != null && job.attempts() > 0;
        });
        assertThat(node.stores().indexQueue().get(id).await().lastError())
                .contains("385 dimensions")
                .contains("EMBEDDING_DIMENSIONS");
        assertThat(node.stores().vectors().count(tenant, id).await()).isZero();
    }

    @Test
    @DisplayName("An upload whose embedding outlasts INGEST_ANSWER_WITHIN_SECONDS is answered 202 `completing` with"
            + " its id, and commits once embedded")
    void slowUploadAnsweredWithItsId() {
        node.stop().await();
        node = start("test-embed-1", Map.of("INGEST_ANSWER_WITHIN_SECONDS", "2"), IngestHooks.NONE);
        String text = "A slow one. " + Fixtures.prose(60);
        String id;
        server.hold();
        try {
            HttpResponse<Buffer> r = upload(text);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            JsonObject accepted = r.bodyAsJsonObject();
            assertThat(accepted.getString("status")).isEqualTo("completing");
            assertThat(accepted.getString("operation_id")).isNotBlank();
            assertThat(accepted.getString("sha256")).isEqualTo(Fixtures.sha256(Fixtures.utf8(text)));
            id = accepted.getString("id");
            assertThat(id).isNotBlank();
            assertThat(http.get("/api/files/" + id + "?user_id=" + tenant).statusCode())
                    .as("the file before it committed")
                    .isEqualTo(404);
        } finally {
            server.release();
        }
        Await.until(
                "the accepted upload to commit",
                60_000,
                () -> http.get("/api/files/" + id + "?user_id=" + tenant).statusCode() == 200);
        FileRecord file = node.stores().metadata().get(id).await();
        assertThat(node.stores().vectors().count(tenant, id).await())
                .isEqualTo(file.embedding().chunks());
        Await.until(
                "its operation to end",
                30_000,
                () -> node.stores().operations().countOpen(tenant).await() == 0);
    }

    @Test
    @DisplayName(
            "A search whose query the provider does not embed in time is 503 naming the embedding, not a bus timeout")
    void slowQueryEmbeddingNamed() {
        node.stop().await();
        node = start("test-embed-1", Map.of("SYNC_TIMEOUT", "7"), IngestHooks.NONE);
        server.hold();
        try {
            HttpResponse<Buffer> search = http.post(
                    "/api/search",
                    "application/json",
                    new JsonObject()
                            .put("user_id", tenant)
                            .put("query", "whales")
                            .toBuffer());
            assertThat(search.statusCode()).as(search.bodyAsString()).isEqualTo(503);
            assertThat(search.bodyAsJsonObject().getString("message"))
                    .contains("not embedded within 2 s by test-embed-1@384")
                    .doesNotContain("__vertx");
        } finally {
            server.release();
        }
    }

    @Test
    @DisplayName("Answers of the right shape that cannot be used (wrong types, infinite or zero vectors) are never"
            + " written: the file waits as pending, and search says the service answered wrongly")
    void unusableAnswersRefused() {
        for (EmbeddingServer.WrongAnswer wrong : EmbeddingServer.WrongAnswer.values()) {
            server.answerWrongly(wrong);
            try {
                HttpResponse<Buffer> r = upload("The " + wrong + " case. " + Fixtures.prose(60));
                assertThat(r.statusCode()).as("%s: %s", wrong, r.bodyAsString()).isEqualTo(202);
                String id = r.bodyAsJsonObject().getString("id");
                assertThat(node.stores().vectors().count(tenant, id).await())
                        .as("points of %s", wrong)
                        .isZero();
                Await.until("the index queue to try " + wrong + " again", 30_000, () -> {
                    IndexJob job = node.stores().indexQueue().get(id).await();
                    return job != null && job.attempts() > 0;
                });
                assertThat(node.stores().indexQueue().get(id).await().lastError())
                        .as("the pending file's reason, %s", wrong)
                        .contains("answered wrongly")
                        .contains(wrong.reason);
                HttpResponse<Buffer> search = http.post(
                        "/api/search",
                        "application/json",
                        new JsonObject()
                                .put("user_id", tenant)
                                .put("query", "anything")
                                .toBuffer());
                assertThat(search.statusCode())
                        .as("search, %s: %s", wrong, search.bodyAsString())
                        .isEqualTo(503);
                assertThat(search.bodyAsJsonObject().getString("message"))
                        .as("search, %s", wrong)
                        .contains("answered wrongly")
                        .doesNotContain("java.");
            } finally {
                server.answerWrongly(null);
            }
        }
    }

    @Test
    @DisplayName(
            "After EMBEDDING_MODEL changes, a scan reports STALE_VECTORS for every file; a repair re-embeds them with the new model")
    void modelChangeIsStale() {
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " " + i);
            assertThat(r.statusCode()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        node.stop().await();
        node = start("test-embed-2");
        JsonObject report = analyze();
        Set<String> stale = new TreeSet<>();
        report.getJsonArray("issues").forEach(i -> {
            JsonObject issue = (JsonObject) i;
            assertThat(issue.getString("type")).isEqualTo("STALE_VECTORS");
            stale.add(issue.getString("file_id"));
        });
        assertThat(stale).isEqualTo(ids);
        HttpResponse<Buffer> fix = http.post(
                "/api/sync/fix",
                "application/json",
                new JsonObject().put("user_id", tenant).put("dry_run", false).toBuffer());
        assertThat(fix.statusCode()).as(fix.bodyAsString()).isEqualTo(202);
        String op = fix.bodyAsJsonObject().getString("operation_id");
        Await.until("the repair to complete", 60_000, () -> "completed"
                .equals(Http.json(http.get("/api/sync/fix/" + op + "?user_id=" + tenant))
                        .getJsonObject("operation")
                        .getString("status")));
        assertThat(analyze().getJsonArray("issues"))
                .as("issues after the repair")
                .isEmpty();
        for (String id : ids) {
            assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                    .isNotEmpty()
                    .allMatch(p -> p.model().equals("test-embed-2@384"));
        }
    }

    @Test
    @DisplayName(
            "After a model change a reindex (dry run first) re-embeds every stale file, verifies, and leaves nothing stale")
    void reindexAfterModelChange() {
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 6; i++) {
            HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " " + i);
            assertThat(r.statusCode()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        node.stop().await();
        node = start("test-embed-2");
        JsonObject dry = Http.json(http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject()
                        .put("tenant_id", tenant)
                        .put("kind", "reindex")
                        .put("dry_run", true)
                        .toBuffer()));
        assertThat(dry.getLong("files")).as("dry run: %s", dry).isEqualTo(6);
        assertThat(dry.getLong("chunks")).isGreaterThanOrEqualTo(6);
        assertThat(dry.getLong("estimated_seconds")).isNotNull();
        int before = server.inputs().size();
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        JsonObject done = awaitEnd();
        assertThat(done.getString("status")).as("the re-index: %s", done).isEqualTo("completed");
        JsonObject result = done.getJsonObject("result");
        assertThat(result.getLong("files")).isEqualTo(6);
        assertThat(result.getLong("stale_after")).isZero();
        assertThat(result.getLong("issues_after")).isZero();
        assertThat(server.inputs().size() - before)
                .as("texts embedded by the re-index: one per chunk")
                .isEqualTo(result.getLong("chunks").intValue());
        for (String id : ids) {
            assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                    .isNotEmpty()
                    .allMatch(p -> p.model().equals("test-embed-2@384"));
        }
        assertThat(analyze().getJsonArray("issues")).isEmpty();
    }

    @Test
    @DisplayName(
            "A re-index is not stopped for good by one file whose blob is missing (a MISSING_BLOB a person must act on): the others are re-embedded")
    void reindexWithOneMissingBlobCompletes() {
        Set<String> ids = new TreeSet<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " " + i);
            assertThat(r.statusCode()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        String lost = ids.iterator().next();
        FileRecord lostRecord = node.stores().metadata().get(lost).await();
        node.stores()
                .blobs()
                .delete(io.trisync.store.StoreKeys.blobKey(tenant, lostRecord.partition(), lost))
                .await();
        node.stop().await();
        node = start("test-embed-2");
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        JsonObject done = awaitEnd();
        // Found by the twelfth session's tryout: the run failed at once with "re-index stopped: s3:
        // NoSuchKey (started again, it resumes from its checkpoints)", naming no file, and every run
        // started again fails the same way, so the tenant (and a dimension change) never finishes.
        assertThat(done.getString("status")).as("the re-index: %s", done).isEqualTo("completed");
        for (String id : ids) {
            if (!id.equals(lost)) {
                assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                        .isNotEmpty()
                        .allMatch(p -> p.model().equals("test-embed-2@384"));
            }
        }
        // Found by the review of that fix: the file left out was counted as re-indexed (the final
        // progress said 4 of 4 files, with no word of the one skipped). Each figure now tells them apart.
        JsonObject skippedFile = new JsonObject().put("file_id", lost).put("reason", "content_missing");
        JsonObject result = done.getJsonObject("result");
        assertThat(result.getLong("files")).as("result %s", result).isEqualTo(3);
        assertThat(result.getLong("skipped")).as("result %s", result).isEqualTo(1);
        assertThat(result.getJsonArray("skipped_files"))
                .as("result %s", result)
                .isEqualTo(new JsonArray().add(skippedFile));
        assertThat(result.getBoolean("skipped_files_truncated")).isFalse();
        assertThat(result.getLong("files_this_run")).isEqualTo(3);
        assertThat(result.getJsonArray("resumed_from"))
                .as("a run that resumed nothing")
                .isEmpty();
        JsonObject progress = done.getJsonObject("progress");
        assertThat(progress.getLong("files_reindexed"))
                .as("progress %s", progress)
                .isEqualTo(3);
        assertThat(progress.getLong("files_skipped"))
                .as("progress %s", progress)
                .isEqualTo(1);
        assertThat(progress.getLong("current_file")).as("progress %s", progress).isEqualTo(4);
        assertThat(progress.getLong("total_files")).as("progress %s", progress).isEqualTo(4);
        assertThat(done.getLong("files_processed")).isEqualTo(4);
        // The operation as stored, and the events it published, say the same.
        String opId = done.getString("id");
        SyncOperation stored = node.stores().syncOperations().get(opId).await();
        assertThat(stored.progress().filesReindexed()).isEqualTo(3);
        assertThat(stored.progress().filesSkipped()).isEqualTo(1);
        assertThat(stored.result().getLong("skipped")).isEqualTo(1);
        Event[] completed = {null};
        Await.until("the re-index's end to be logged", 10_000, () -> {
            completed[0] = node.stores().events().since(tenant, 0, 1000).await().stream()
                    .filter(e -> opId.equals(e.opId()) && "sync.op_completed".equals(e.type()))
                    .findFirst()
                    .orElse(null);
            return completed[0] != null;
        });
        JsonObject published = completed[0].data().getJsonObject("result");
        assertThat(published.getLong("files")).as("published %s", published).isEqualTo(3);
        assertThat(published.getLong("skipped")).isEqualTo(1);
        assertThat(published.getJsonArray("skipped_files")).isEqualTo(new JsonArray().add(skippedFile));
        List<JsonObject> progressed = node.stores().events().since(tenant, 0, 1000).await().stream()
                .filter(e -> opId.equals(e.opId()) && "sync.op_progress".equals(e.type()))
                .map(Event::data)
                .toList();
        JsonObject last = progressed.get(progressed.size() - 1);
        assertThat(last.getString("stage")).as("progress events %s", progressed).isEqualTo("finalizing");
        assertThat(last.getLong("filesReindexed"))
                .as("progress events %s", progressed)
                .isEqualTo(3);
        assertThat(last.getLong("filesSkipped")).isEqualTo(1);
        assertThat(last.getLong("currentFile")).isEqualTo(4);
        assertThat(last.getLong("totalFiles")).isEqualTo(4);
        // Every batch's progress counted each file once: never past the total, never a skip as done.
        assertThat(progressed)
                .filteredOn(e -> "updating_embeddings".equals(e.getString("stage")))
                .allMatch(e -> e.getLong("currentFile") <= e.getLong("totalFiles")
                        && e.getLong("currentFile") == e.getLong("filesReindexed") + e.getLong("filesSkipped"));
    }

    @Test
    @DisplayName("A re-index that resumes reports the whole tenant's figures: the files its checkpoint counts, those"
            + " of the batch patched before a kill (pending), and its own, naming the run it went on from")
    void resumedReindexCountsEarlierRuns() {
        // One partition, so one checkpoint describes the killed run's state.
        node.stop().await();
        node = start("test-embed-1", Map.of("SYNC_PARTITIONS", "1"), IngestHooks.NONE);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " " + i);
            assertThat(r.statusCode()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        ids.sort(null);
        node.stop().await();
        node = start("test-embed-2", Map.of("SYNC_PARTITIONS", "1"), IngestHooks.NONE);
        // What a run killed while it wrote its second batch leaves: the first file re-embedded and
        // checkpointed, the second patched but its checkpoint not yet written (its id pending).
        String model = "test-embed-2@384";
        List<FileRecord> before =
                node.stores().metadata().getAll(ids.subList(0, 2)).await();
        List<io.trisync.store.MetadataStore.Patch> patches = new ArrayList<>();
        for (FileRecord r : before) {
            patches.add(new io.trisync.store.MetadataStore.Patch(
                    r.id(),
                    new JsonObject(),
                    FileRecord.Embedding.indexedFields(model, 384, r.embedding().chunks(), r.sha256())));
        }
        assertThat(node.stores().metadata().patchAll(patches).await()).isEqualTo(2);
        FileRecord first = before.stream()
                .filter(r -> r.id().equals(ids.get(0)))
                .findFirst()
                .orElseThrow();
        String killed = "op-killed-before";
        node.stores()
                .checkpoints()
                .save(new ReindexCheckpoints.Checkpoint(
                        tenant,
                        0,
                        model,
                        false,
                        ids.get(0),
                        false,
                        1,
                        first.embedding().chunks(),
                        0,
                        List.of(),
                        List.of(killed),
                        List.of(ids.get(1))))
                .await();
        JsonObject dry = Http.json(http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject()
                        .put("tenant_id", tenant)
                        .put("kind", "reindex")
                        .put("dry_run", true)
                        .toBuffer()));
        assertThat(dry.getLong("files")).as("the files still to do: %s", dry).isEqualTo(2);
        int mark = server.inputs().size();
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        assertThat(started.bodyAsJsonObject().getJsonObject("progress").getLong("total_files"))
                .as("the whole re-index's files, told at the start: %s", started.bodyAsString())
                .isEqualTo(4);
        JsonObject done = awaitEnd();
        assertThat(done.getString("status")).as("the re-index: %s", done).isEqualTo("completed");
        JsonObject result = done.getJsonObject("result");
        assertThat(result.getLong("files")).as("result %s", result).isEqualTo(4);
        assertThat(result.getLong("files_this_run")).as("result %s", result).isEqualTo(2);
        assertThat(result.getLong("chunks_this_run"))
                .as("texts this run embedded: %s", result)
                .isEqualTo(server.inputs().size() - mark);
        assertThat(result.getLong("skipped")).isZero();
        assertThat(result.getJsonArray("resumed_from")).isEqualTo(new JsonArray().add(killed));
        JsonObject progress = done.getJsonObject("progress");
        assertThat(progress.getLong("files_reindexed"))
                .as("progress %s", progress)
                .isEqualTo(4);
        assertThat(progress.getLong("current_file")).as("progress %s", progress).isEqualTo(4);
        assertThat(progress.getLong("total_files")).as("progress %s", progress).isEqualTo(4);
        assertThat(node.stores().checkpoints().list(tenant).await())
                .as("a completed re-index clears its checkpoints")
                .isEmpty();
    }

    @Test
    @DisplayName("A re-index reports its phase and its files to do while its first file is still being embedded")
    void reindexProgressBeforeFirstBatch() {
        // One partition: no empty partition reports a batch before the first file's (as in a tenant
        // whose every partition holds files), so only the re-index's own start can tell the phase.
        node.stop().await();
        node = start("test-embed-1", Map.of("SYNC_PARTITIONS", "1"), IngestHooks.NONE);
        for (int i = 0; i < 2; i++) {
            assertThat(upload(Fixtures.prose(200) + " " + i).statusCode()).isEqualTo(201);
        }
        node.stop().await();
        // The default heartbeat (30 s): a new stage is written at once, not with the next heartbeat.
        node = start("test-embed-2", Map.of("SYNC_PARTITIONS", "1"), IngestHooks.NONE);
        server.hold();
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        Await.until("the first batch to reach the embedding service", 30_000, () -> server.held() > 0);
        JsonObject[] progress = {null};
        Await.until("the re-index's phase to be reported while its first batch embeds", 15_000, () -> {
            JsonObject latest = Http.json(http.get("/api/v1/sync/status?tenant_id=" + tenant))
                    .getJsonObject("latest_sync");
            progress[0] = latest.getJsonObject("progress");
            return "updating_embeddings".equals(progress[0].getString("stage"));
        });
        assertThat(server.held()).as("the first batch is still held").isPositive();
        assertThat(progress[0].getLong("total_files"))
                .as("progress: %s", progress[0])
                .isEqualTo(2);
        assertThat(progress[0].getLong("current_file")).isZero();
        server.release();
        JsonObject done = awaitEnd();
        assertThat(done.getString("status")).as("the re-index: %s", done).isEqualTo("completed");
        assertThat(done.getJsonObject("result").getLong("files")).isEqualTo(2);
    }

    @Test
    @DisplayName("A re-index dry run counts the chunks the run embeds: none for a file without text to extract")
    void reindexDryRunCountsWhatTheRunEmbeds() {
        long textChunks = 0;
        for (int i = 0; i < 2; i++) {
            HttpResponse<Buffer> r = upload(Fixtures.prose(200) + " " + i);
            assertThat(r.statusCode()).isEqualTo(201);
            textChunks += node.stores()
                    .metadata()
                    .get(r.bodyAsJsonObject().getString("id"))
                    .await()
                    .embedding()
                    .chunks();
        }
        byte[] binary = new byte[4096];
        new Random(5).nextBytes(binary);
        HttpResponse<Buffer> image = http.upload(tenant, "photo.bin", "application/octet-stream", binary, null);
        assertThat(image.statusCode()).as(image.bodyAsString()).isEqualTo(201);
        assertThat(node.stores()
                        .metadata()
                        .get(image.bodyAsJsonObject().getString("id"))
                        .await()
                        .embedding()
                        .chunks())
                .as("a file without text has no chunks")
                .isZero();
        node.stop().await();
        node = start("test-embed-2");
        JsonObject dry = Http.json(http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject()
                        .put("tenant_id", tenant)
                        .put("kind", "reindex")
                        .put("dry_run", true)
                        .toBuffer()));
        assertThat(dry.getLong("files")).as("dry run: %s", dry).isEqualTo(3);
        assertThat(dry.getLong("chunks")).as("dry run: %s", dry).isEqualTo(textChunks);
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        JsonObject done = awaitEnd();
        assertThat(done.getString("status")).as("the re-index: %s", done).isEqualTo("completed");
        assertThat(done.getJsonObject("result").getLong("files")).isEqualTo(3);
        assertThat(done.getJsonObject("result").getLong("chunks"))
                .as("chunks the run embedded, as the dry run counted them")
                .isEqualTo(dry.getLong("chunks"));
    }

    /** The tenant's latest operation once it has ended. */
    private JsonObject awaitEnd() {
        JsonObject[] latest = {null};
        Await.until("the operation to end", 60_000, () -> {
            latest[0] = Http.json(http.get("/api/v1/sync/status?tenant_id=" + tenant))
                    .getJsonObject("latest_sync");
            return latest[0] != null && !"running".equals(latest[0].getString("status"));
        });
        return latest[0];
    }

    /** The file's vectors removed and its record pending, with an index job due now: the queue makes them again. */
    private void indexAgainFromQueue(String id) {
        FileRecord file = node.stores().metadata().get(id).await();
        node.stores().vectors().deleteFile(tenant, id).await();
        node.stores()
                .metadata()
                .patch(id, new JsonObject(), new JsonObject().put(FileRecord.EMBEDDING_PENDING, true))
                .await();
        node.stores()
                .indexQueue()
                .enqueue(IndexJob.of(id, tenant, file.partition(), Instant.now()))
                .await();
    }

    private HttpResponse<Buffer> upload(String text) {
        return http.upload(tenant, "doc.txt", "text/plain", Fixtures.utf8(text), null);
    }

    private JsonObject analyze() {
        HttpResponse<Buffer> r = http.post(
                "/api/sync/analyze",
                "application/json",
                new JsonObject().put("user_id", tenant).put("mode", "full").toBuffer());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private JsonObject fileStatus() {
        return Http.json(http.get("/api/v1/sync/status?tenant_id=" + tenant)).getJsonObject("file_status");
    }

    private List<Object> files() {
        return http.get("/api/files?user_id=" + tenant)
                .bodyAsJsonObject()
                .getJsonArray("files")
                .getList();
    }
}
