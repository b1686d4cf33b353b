package io.trisync.ingest;

import static io.trisync.ingest.IngestFaultFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ingest operations cut short (a node stopped after a step, a lease lost, a step run on another node)
 * and what recovery makes of them: the three stores agree afterwards, nothing acknowledged is lost and
 * nothing unacknowledged is left behind.
 */
@Timeout(600)
class IngestRecoveryIT {

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

    @Test
    @DisplayName("GET of a file whose upload was undone answers 404 naming the undone operation and asking for the"
            + " upload again; while the upload runs, 404 saying it is still completing; another tenant learns neither")
    void undoneUploadSaysSoOnGet() throws Exception {
        String tenant = TestStack.unique("t");
        CountDownLatch reached = new CountDownLatch(1);
        AtomicReference<String> stopped = new AtomicReference<>();
        Node crashing = Node.start(config(), false, crashAfter(Kind.UPLOAD, Step.BLOB_WRITTEN, reached, stopped))
                .await();
        uploadAsync(crashing, tenant, utf8(Fixtures.prose(300)));
        assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
        String opId = stopped.get();
        String fileId = crashing.stores().operations().get(opId).await().fileId();
        HttpResponse<Buffer> running = getFile(crashing, tenant, fileId);
        assertThat(running.statusCode()).as(running.bodyAsString()).isEqualTo(404);
        assertThat(running.bodyAsJsonObject().getString("message"))
                .contains("its upload is still completing (operation " + opId + ")");
        crashing.stop().await();

        Node survivor = Node.start(config(), false).await();
        try {
            assertThat(recovered(survivor, opId).step()).isEqualTo(Step.ABORTED);
            HttpResponse<Buffer> undone = getFile(survivor, tenant, fileId);
            assertThat(undone.statusCode()).as(undone.bodyAsString()).isEqualTo(404);
            assertThat(undone.bodyAsJsonObject().getString("error")).isEqualTo("not_found");
            assertThat(undone.bodyAsJsonObject().getString("message"))
                    .isEqualTo("no file " + fileId + ": its upload did not complete and was undone (operation " + opId
                            + "); upload it again");
            HttpResponse<Buffer> foreign = getFile(survivor, TestStack.unique("other"), fileId);
            assertThat(foreign.statusCode()).isEqualTo(404);
            assertThat(foreign.bodyAsJsonObject().getString("message")).doesNotContain(opId);
        } finally {
            survivor.stop().await();
        }
    }

    @Test
    @DisplayName("An upload answered 202 completing whose node fell before the commit is rolled forward by recovery"
            + " with its embedding pending, and the index queue makes its points")
    void promisedUploadIsRolledForward() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        String opId = promisedAndStopped(tenant, bytes, Step.VECTORS_WRITTEN);
        Node survivor = Node.start(config(), false).await();
        try {
            IngestOperation op = recovered(survivor, opId);
            assertThat(op.step()).isEqualTo(Step.DONE);
            Await.until("the index queue to make the points of " + op.fileId(), 60_000, () -> !survivor.stores()
                    .metadata()
                    .get(op.fileId())
                    .await()
                    .embedding()
                    .pending());
            FileRecord file = assertComplete(survivor.stores(), tenant, bytes);
            assertThat(file.id()).isEqualTo(op.fileId());
            // The record leaves pending before embedding.created is logged (the worker patches, then publishes).
            Await.until("embedding.created to be logged", 30_000, () -> eventTypes(survivor.stores(), tenant)
                    .contains("embedding.created"));
            assertThat(eventTypes(survivor.stores(), tenant))
                    .containsOnlyOnce("file.uploaded", "embedding.pending", "embedding.created");
            assertThat(getFile(survivor, tenant, file.id()).statusCode()).isEqualTo(200);
        } finally {
            survivor.stop().await();
        }
    }

    @Test
    @DisplayName("An upload answered 202 completing whose blob is not in S3 is undone by recovery, as before")
    void promisedUploadWithoutItsBlobIsUndone() throws Exception {
        String tenant = TestStack.unique("t");
        String opId = promisedAndStopped(tenant, utf8(Fixtures.prose(300)), Step.BLOB_WRITTEN);
        Node survivor = Node.start(config(), false).await();
        try {
            IngestOperation op = survivor.stores().operations().get(opId).await();
            survivor.stores().blobs().delete(op.blobKey()).await();
            assertThat(recovered(survivor, opId).step()).isEqualTo(Step.ABORTED);
            assertNothingLeft(survivor.stores(), tenant);
            assertThat(eventTypes(survivor.stores(), tenant)).isEmpty();
        } finally {
            survivor.stop().await();
        }
    }

    @Test
    @DisplayName("An upload answered 202 completing whose own completion then fails is rolled forward by its node"
            + " with its embedding pending, not undone")
    void promisedUploadThatFailsIsRolledForward() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(answeringWithinASecond(), false, pauseAfter(Step.BLOB_WRITTEN, reached, release, held))
                .await();
        try {
            String opId = answeredCompleting(node, tenant, bytes, reached, held);
            node.vertx().runOnContext(v -> release.fail(new Failure.Unavailable("qdrant", "cut by the test", null)));
            Await.until(
                    "the upload's node to end operation " + opId,
                    30_000,
                    () -> node.stores().operations().get(opId).await().step().terminal());
            assertRolledForward(node, tenant, bytes, opId);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("An upload answered 202 completing that lost its lease before its commit keeps its writes: the"
            + " claimant rolls it forward")
    void promisedUploadThatLostItsLeaseKeepsItsWrites() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(
                        answeringWithinASecond(), false, pauseAfter(Step.VECTORS_WRITTEN, reached, release, held))
                .await();
        MongoClient raw = rawClient(node);
        try {
            String opId = answeredCompleting(node, tenant, bytes, reached, held);
            claimedByAnotherNode(raw, opId);
            node.vertx().runOnContext(v -> release.complete());
            assertThat(recovered(node, opId).step()).isEqualTo(Step.DONE);
            assertRolledForward(node, tenant, bytes, opId);
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A new version answered 202 completing whose own completion then fails is rolled forward by its"
            + " node: the file ends at the new version, its vectors pending, then made by the index queue")
    void promisedVersionThatFailsIsRolledForward() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] before = utf8("The old version. " + Fixtures.prose(200));
        byte[] after = utf8("The new version. " + Fixtures.prose(120));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        // Held after its bytes were checked and its vectors made, before its commit.
        Node node = Node.start(
                        answeringWithinASecond(),
                        false,
                        pauseAfter(Kind.REPLACE, Step.BLOB_WRITTEN, reached, release, held))
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String id = uploadedWhole(node, http, tenant, before);
            HttpResponse<Buffer> answer = http.replace(contentPath(tenant, id), "doc.txt", "text/plain", after, null);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(202);
            assertThat(answer.bodyAsJsonObject().getString("status")).isEqualTo("completing");
            String opId = held.get();
            assertThat(answer.bodyAsJsonObject().getString("operation_id")).isEqualTo(opId);
            assertThat(node.stores().operations().get(opId).await().promised())
                    .as("the 202 recorded on the operation")
                    .isTrue();
            node.vertx().runOnContext(v -> release.fail(new Failure.Unavailable("qdrant", "cut by the test", null)));
            Await.until(
                    "the new version's node to end operation " + opId,
                    30_000,
                    () -> node.stores().operations().get(opId).await().step().terminal());
            assertThat(node.stores().operations().get(opId).await().step())
                    .as("operation %s of the new version answered 202", opId)
                    .isEqualTo(Step.DONE);
            assertThat(node.stores().events().ofFile(tenant, id, 50).await().stream()
                            .map(e -> e.type())
                            .toList())
                    .as("rolled forward with its vectors pending")
                    .containsOnlyOnce("file.updated", "embedding.pending");
            Await.until(
                    "the index queue to make the points of " + id,
                    60_000,
                    () -> !node.stores().metadata().get(id).await().embedding().pending());
            TenantFiles.assertOnlyVersion(node.stores(), tenant, id, after);
            FileRecord file = node.stores().metadata().get(id).await();
            assertThat(file.contentVersion()).isEqualTo(2);
            assertThat(file.history().get(0).opId()).isEqualTo(opId);
            assertThat(node.stores()
                            .blobs()
                            .getBytes(StoreKeys.versionKey(tenant, id, 1))
                            .await()
                            .getBytes())
                    .as("the old version, retained")
                    .isEqualTo(before);
            assertThat(TenantFiles.staged(node.stores(), tenant))
                    .as("staged copies")
                    .isEmpty();
            assertThat(http.get(contentPath(tenant, id)).bodyAsBuffer().getBytes())
                    .as("the content the API serves")
                    .isEqualTo(after);
            JsonObject shown =
                    http.get("/api/files/" + id + "?user_id=" + tenant).bodyAsJsonObject();
            assertThat(shown.getString("sha256")).isEqualTo(Fixtures.sha256(after));
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A new version answered 202 completing that lost its lease before its commit keeps its staged"
            + " bytes: the claimant rolls it forward from them")
    void promisedVersionThatLostItsLeaseKeepsItsStagedBytes() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] before = utf8("The old version. " + Fixtures.prose(200));
        byte[] after = utf8("The new version. " + Fixtures.prose(120));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(
                        answeringWithinASecond(),
                        false,
                        pauseAfter(Kind.REPLACE, Step.BLOB_WRITTEN, reached, release, held))
                .await();
        MongoClient raw = rawClient(node);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String id = uploadedWhole(node, http, tenant, before);
            HttpResponse<Buffer> answer = http.replace(contentPath(tenant, id), "doc.txt", "text/plain", after, null);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(202);
            String opId = held.get();
            assertThat(node.stores().operations().get(opId).await().promised()).isTrue();
            // Another node's recovery holds it for three seconds: the released flow finds at its commit
            // that it lost the operation, and ends, before this node's sweeps may claim it in turn.
            claimedByAnotherNode(raw, opId, Instant.now().plusSeconds(3));
            node.vertx().runOnContext(v -> release.complete());
            IngestOperation op = recovered(node, opId);
            assertThat(op.step())
                    .as("operation %s, rolled forward by the claimant", opId)
                    .isEqualTo(Step.DONE);
            Await.until(
                    "the index queue to make the points of " + id,
                    60_000,
                    () -> !node.stores().metadata().get(id).await().embedding().pending());
            TenantFiles.assertOnlyVersion(node.stores(), tenant, id, after);
            assertThat(node.stores().metadata().get(id).await().contentVersion())
                    .isEqualTo(2);
            assertThat(TenantFiles.staged(node.stores(), tenant))
                    .as("staged copies")
                    .isEmpty();
            assertThat(http.get(contentPath(tenant, id)).bodyAsBuffer().getBytes())
                    .isEqualTo(after);
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    /** Leaves on operation {@code opId} what a claim by another node's recovery does, its lease since run out. */
    private static void claimedByAnotherNode(MongoClient raw, String opId) {
        claimedByAnotherNode(raw, opId, Instant.parse("2000-01-01T00:00:00Z"));
    }

    /**
     * Leaves on operation {@code opId} what a claim by another node's recovery does, touched at and
     * leased until {@code until}: no sweep claims it again before then.
     */
    private static void claimedByAnotherNode(MongoClient raw, String opId, Instant until) {
        JsonObject stale = new JsonObject().put("$date", until.toString());
        long claimed = raw.updateCollection(
                        "ingest_ops",
                        new JsonObject().put("_id", opId),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject()
                                                .put("leaseOwner", "another-node")
                                                .put(
                                                        IngestOperation.LEASE_KEY,
                                                        IngestOperation.leaseKey(opId, "another-node"))
                                                .put("leaseUntil", stale)
                                                .put("updatedAt", stale)))
                .await()
                .getDocModified();
        assertThat(claimed).isEqualTo(1);
    }

    /** Uploads {@code bytes} and waits until the file is whole (answered 201, or 202 and then committed). */
    private static String uploadedWhole(Node node, Http http, String tenant, byte[] bytes) {
        HttpResponse<Buffer> uploaded = http.upload(tenant, "doc.txt", "text/plain", bytes, null);
        assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isIn(201, 202);
        String id = uploaded.bodyAsJsonObject().getString("id");
        Await.until(
                "the first version of " + id + " to be stored",
                60_000,
                () -> node.stores().operations().countOpen(tenant).await() == 0);
        assertThat(assertComplete(node.stores(), tenant, bytes).id()).isEqualTo(id);
        return id;
    }

    private static String contentPath(String tenant, String id) {
        return "/api/files/" + id + "/content?user_id=" + tenant;
    }

    @Test
    @DisplayName("An upload undone by recovery while its node still wrote: once that node's flow fails, what it"
            + " wrote goes too (a large file's batches of points go on for minutes)")
    void undoneWhileItsNodeWroteLeavesNoPoints() throws Exception {
        String tenant = TestStack.unique("t");
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(config(), false, pauseAfter(Step.VECTORS_WRITTEN, reached, release, held))
                .await();
        MongoClient raw = rawClient(node);
        try {
            uploadAsync(node, tenant, utf8(Fixtures.prose(300)));
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            String fileId = node.stores().operations().get(held.get()).await().fileId();
            assertThat(node.stores().vectors().count(tenant, fileId).await()).isPositive();
            // What another node's recovery leaves once it has undone the upload (it removed what it found):
            // the operation ended, its file and lease freed.
            raw.updateCollection(
                            "ingest_ops",
                            new JsonObject().put("_id", held.get()),
                            new JsonObject()
                                    .put(
                                            "$set",
                                            new JsonObject()
                                                    .put(IngestOperation.STEP, Step.ABORTED.name())
                                                    .put(IngestOperation.TERMINAL, true)
                                                    .putNull(IngestOperation.LEASE_OWNER)
                                                    .putNull(IngestOperation.LEASE_UNTIL))
                                    .put(
                                            "$unset",
                                            new JsonObject()
                                                    .put(IngestOperation.OPEN_FILE, "")
                                                    .put(IngestOperation.LEASE_KEY, "")))
                    .await();
            node.vertx().runOnContext(v -> release.fail(new Failure.Unavailable("qdrant", "cut by the test", null)));
            Await.until(
                    "the points the node wrote after the undo to be removed",
                    30_000,
                    () -> node.stores().vectors().count(tenant, fileId).await() == 0);
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    /** {@link IngestFaultFixture#config()} with uploads answered 202 {@code completing} after a second. */
    private static io.trisync.config.TrisyncConfig answeringWithinASecond() {
        return stores().nodeConfig(Map.of(
                "INGEST_RECOVERY_GRACE_SECONDS",
                "1",
                "INGEST_RECOVERY_INTERVAL_SECONDS",
                "3600",
                "INGEST_ANSWER_WITHIN_SECONDS",
                "1"));
    }

    /** Uploads {@code bytes} to {@code node}, held by its hook, and checks that it is answered 202 completing. */
    private static String answeredCompleting(
            Node node, String tenant, byte[] bytes, CountDownLatch reached, AtomicReference<String> held)
            throws Exception {
        HttpResponse<Buffer> answer = uploadAsync(node, tenant, bytes).await();
        assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(202);
        assertThat(answer.bodyAsJsonObject().getString("operation_id")).isEqualTo(held.get());
        assertThat(node.stores().operations().get(held.get()).await().promised())
                .as("the 202 recorded on the operation")
                .isTrue();
        return held.get();
    }

    /** The upload of operation {@code opId} ended DONE, stored with its embedding pending, then indexed. */
    private static void assertRolledForward(Node node, String tenant, byte[] bytes, String opId) {
        IngestOperation op = node.stores().operations().get(opId).await();
        assertThat(op.step()).as("operation %s", opId).isEqualTo(Step.DONE);
        Await.until("the index queue to make the points of " + op.fileId(), 60_000, () -> !node.stores()
                .metadata()
                .get(op.fileId())
                .await()
                .embedding()
                .pending());
        assertThat(assertComplete(node.stores(), tenant, bytes).id()).isEqualTo(op.fileId());
        assertThat(eventTypes(node.stores(), tenant)).containsOnlyOnce("file.uploaded", "embedding.pending");
        assertThat(getFile(node, tenant, op.fileId()).statusCode()).isEqualTo(200);
    }

    /**
     * Uploads {@code bytes}, stops the upload after {@code step}, records the 202 on its operation as
     * the completing node does, and stops the node; returns the operation's id.
     */
    private static String promisedAndStopped(String tenant, byte[] bytes, Step step) throws Exception {
        CountDownLatch reached = new CountDownLatch(1);
        AtomicReference<String> stopped = new AtomicReference<>();
        Node crashing = Node.start(config(), false, crashAfter(Kind.UPLOAD, step, reached, stopped))
                .await();
        try {
            uploadAsync(crashing, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(crashing.stores()
                            .operations()
                            .promise(stopped.get(), Steps.uploadHolder(stopped.get()))
                            .await())
                    .as("the 202 recorded while the upload's flow holds it")
                    .isTrue();
        } finally {
            crashing.stop().await();
        }
        return stopped.get();
    }

    private static HttpResponse<Buffer> getFile(Node node, String tenant, String fileId) {
        WebClient web = WebClient.create(node.vertx());
        try {
            return web.get(node.httpPort(), "127.0.0.1", "/api/files/" + fileId + "?user_id=" + tenant)
                    .send()
                    .await();
        } finally {
            web.close();
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
            // Held until the delete was reached: Vert.x closes a client the collector found unreachable.
            WebClient deleter = WebClient.create(crashing.vertx());
            deleter.delete(crashing.httpPort(), "127.0.0.1", "/api/files/" + fileId + "?user_id=" + tenant)
                    .send();
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            deleter.close();
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
    @DisplayName("An upload answered before its end frees its file at the commit: a delete is taken at once, and"
            + " recovery ends the upload without logging its events twice")
    void uploadEndedAfterItsAnswer() throws Exception {
        String tenant = TestStack.unique("t");
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node node = Node.start(config(), false, pauseAfter(Step.COMMITTED, reached, release, held))
                .await();
        MongoClient raw = rawClient(node);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Future<HttpResponse<Buffer>> upload = uploadAsync(node, tenant, utf8(Fixtures.prose(200)));
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            String opId = held.get();
            IngestOperation committed = node.stores().operations().get(opId).await();
            assertThat(committed.step()).isEqualTo(Step.COMMITTED);
            assertThat(node.stores().operations().openFor(committed.fileId()).await())
                    .as("the file is freed by the commit")
                    .isNull();
            assertThat(node.stores().operations().countOpen(tenant).await())
                    .as("the upload is still to end")
                    .isEqualTo(1);
            node.vertx().runOnContext(v -> release.complete());
            HttpResponse<Buffer> uploaded = upload.await();
            assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
            String fileId = uploaded.bodyAsJsonObject().getString("id");
            assertThat(fileId).isEqualTo(committed.fileId());
            Await.until(
                    "the upload's end",
                    10_000,
                    () -> node.stores().operations().get(opId).await().step() == Step.DONE);
            // What a node that fell after logging the events, before its end landed, leaves.
            fellAfterCommit(raw, opId);

            HttpResponse<Buffer> deleted = http.delete("/api/files/" + fileId + "?user_id=" + tenant);
            assertThat(deleted.statusCode())
                    .as("a delete while the upload is still to end: %s", deleted.bodyAsString())
                    .isEqualTo(200);
            assertThat(recovered(node, opId).step()).isEqualTo(Step.DONE);
            assertThat(node.stores().metadata().get(fileId).await().status()).isEqualTo(FileRecord.Status.DELETED);
            assertThat(eventTypes(node.stores(), tenant))
                    .as("the upload's events once, and the delete's")
                    .containsExactlyInAnyOrder(
                            "embedding.deleted", "file.deleted", "embedding.created", "file.uploaded");
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("An upload that fell after its commit, before its events, is announced by recovery after a metadata"
            + " edit, and ended without announcing the file when it was deleted meanwhile")
    void uploadSupersededBeforeItsEvents() {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        MongoClient raw = rawClient(node);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String fileId = uploadedDoc(http, tenant);
            String opId = node.stores().operations().uploadOf(fileId).await().id();
            Await.until(
                    "the upload's end",
                    10_000,
                    () -> node.stores().operations().get(opId).await().step() == Step.DONE);
            // A node that fell between the commit and the events' insert: no events, the file freed.
            assertThat(raw.removeDocuments("events", new JsonObject().put("opId", opId))
                            .await()
                            .getRemovedCount())
                    .isEqualTo(2);
            fellAfterCommit(raw, opId);
            // A metadata edit meanwhile (a rename, the vectors of a pending upload made) is not a new
            // content version: the upload is still announced.
            assertThat(raw.updateCollection(
                                    "files",
                                    new JsonObject().put("_id", fileId),
                                    new JsonObject().put("$inc", new JsonObject().put("version", 1)))
                            .await()
                            .getDocModified())
                    .isEqualTo(1);
            assertThat(recovered(node, opId).step()).isEqualTo(Step.DONE);
            assertThat(eventTypes(node.stores(), tenant))
                    .as("the upload's events, logged by recovery")
                    .containsExactlyInAnyOrder("embedding.created", "file.uploaded");

            // The same once more, with the file deleted before recovery runs.
            assertThat(raw.removeDocuments("events", new JsonObject().put("opId", opId))
                            .await()
                            .getRemovedCount())
                    .isEqualTo(2);
            fellAfterCommit(raw, opId);
            HttpResponse<Buffer> deleted = http.delete("/api/files/" + fileId + "?user_id=" + tenant);
            assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);

            IngestOperation ended = recovered(node, opId);
            assertThat(ended.step()).isEqualTo(Step.DONE);
            assertThat(ended.lastError()).contains("superseded");
            assertThat(eventTypes(node.stores(), tenant))
                    .as("the delete's events only: the deleted file is not announced as uploaded")
                    .containsExactlyInAnyOrder("embedding.deleted", "file.deleted");
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A new version and a delete whose node fell after logging their events, before recording their"
            + " end, are ended by recovery without logging their events again")
    void versionAndDeleteEndedOnce() {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        MongoClient raw = rawClient(node);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String fileId = uploadedDoc(http, tenant);
            HttpResponse<Buffer> replaced = http.replace(
                    "/api/files/" + fileId + "/content?user_id=" + tenant,
                    "doc.txt",
                    "text/plain",
                    utf8(Fixtures.prose(150) + " second version"),
                    null);
            assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(200);
            String replaceOp = ended(node, fileId, Kind.REPLACE);
            fellAfterCommit(raw, replaceOp);
            assertThat(recovered(node, replaceOp).step()).isEqualTo(Step.DONE);
            assertThat(eventTypes(node.stores(), tenant))
                    .as("the new version announced once")
                    .containsOnlyOnce("file.updated");

            HttpResponse<Buffer> deleted = http.delete("/api/files/" + fileId + "?user_id=" + tenant);
            assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);
            String deleteOp = ended(node, fileId, Kind.DELETE);
            fellAfterCommit(raw, deleteOp);
            assertThat(recovered(node, deleteOp).step()).isEqualTo(Step.DONE);
            assertThat(eventTypes(node.stores(), tenant))
                    .as("the deletion announced once")
                    .containsOnlyOnce("file.deleted", "embedding.deleted", "file.updated", "file.uploaded");
        } finally {
            raw.close().await();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A delete that joins another of the same file after the file was marked deleted answers with the"
            + " record as marked, not one version past it")
    void joiningDeleteAnswersTheMarkedRecord() throws Exception {
        deleteJoinedAfter(Step.METADATA_DELETED, (node, j) -> {
            assertThat(j.atPause().status()).isEqualTo(FileRecord.Status.DELETED);
            assertThat(j.joined().statusCode()).as(j.joined().bodyAsString()).isEqualTo(200);
            assertThat(j.joined().bodyAsJsonObject().getJsonObject("file").getLong("version"))
                    .as("the record as marked deleted")
                    .isEqualTo(j.atPause().version())
                    .isEqualTo(j.afterJoin().version());
        });
    }

    @Test
    @DisplayName("A delete that joins another between its commit and its events answers the deleted record and logs"
            + " nothing: the delete's own flow logs file.deleted, once")
    void joiningDeleteLeavesTheEventsToTheDelete() throws Exception {
        deleteJoinedAfter(Step.COMMITTED, (node, j) -> {
            assertThat(j.joined().statusCode()).as(j.joined().bodyAsString()).isEqualTo(200);
            assertThat(j.joined().bodyAsJsonObject().getJsonObject("file").getString("status"))
                    .isEqualTo("deleted");
            assertThat(j.first().statusCode()).isEqualTo(200);
            ended(node, j.fileId(), Kind.DELETE);
            assertThat(node.stores().events().ofFile(j.tenant(), j.fileId(), 100).await().stream()
                            .filter(e -> e.type().equals("file.deleted"))
                            .count())
                    .as("file.deleted events")
                    .isEqualTo(1);
        });
    }

    /**
     * Two DELETEs of one file: the record as the first left it while held after {@code step}, the
     * second's answer and the record right after it, and the first's answer once released.
     */
    private record Joined(
            String tenant,
            String fileId,
            FileRecord atPause,
            HttpResponse<Buffer> joined,
            FileRecord afterJoin,
            HttpResponse<Buffer> first) {}

    private interface JoinedCheck {
        void check(Node node, Joined joined) throws Exception;
    }

    /**
     * Uploads a file and deletes it twice on a node whose first delete is held after {@code step}
     * until the second is answered; then {@code check}s what happened, with the node still running.
     */
    private static void deleteJoinedAfter(Step step, JoinedCheck check) throws Exception {
        String tenant = TestStack.unique("t");
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicBoolean paused = new AtomicBoolean();
        Node node = Node.start(config(), false, (op, done) -> {
                    if (op.kind() == Kind.DELETE && done == step && paused.compareAndSet(false, true)) {
                        reached.countDown();
                        return release.future();
                    }
                    return Future.succeededFuture();
                })
                .await();
        WebClient web = WebClient.create(node.vertx());
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String fileId = uploadedDoc(http, tenant);
            String path = "/api/files/" + fileId + "?user_id=" + tenant;
            Future<HttpResponse<Buffer>> first =
                    web.delete(node.httpPort(), "127.0.0.1", path).send();
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            FileRecord atPause = node.stores().metadata().get(fileId).await();
            HttpResponse<Buffer> joined = http.delete(path);
            FileRecord afterJoin = node.stores().metadata().get(fileId).await();
            node.vertx().runOnContext(v -> release.complete());
            check.check(node, new Joined(tenant, fileId, atPause, joined, afterJoin, first.await()));
        } finally {
            web.close();
            node.stop().await();
        }
    }

    /** A MongoDB client of its own on {@code node}'s database, to read and set what the node stores. */
    private static MongoClient rawClient(Node node) {
        return MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
    }

    /** Uploads a text document to {@code tenant}; its file id, once answered 201. */
    private static String uploadedDoc(Http http, String tenant) {
        HttpResponse<Buffer> uploaded = http.upload(tenant, "doc.txt", "text/plain", utf8(Fixtures.prose(200)), null);
        assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
        return uploaded.bodyAsJsonObject().getString("id");
    }

    /** The id of the operation of {@code kind} on {@code fileId}, once it has ended. */
    private static String ended(Node node, String fileId, Kind kind) {
        String[] id = {null};
        Await.until(
                kind + " of " + fileId + " to end",
                10_000,
                () -> node.stores().operations().ofFile(fileId).await().stream()
                        .filter(op -> op.kind() == kind && op.step() == Step.DONE)
                        .peek(op -> id[0] = op.id())
                        .findFirst()
                        .isPresent());
        return id[0];
    }

    /**
     * Sets operation {@code opId} back to what its node leaves when it falls after the commit: its lease run
     * out, and a new version or a delete still holding its file (only an upload's commit frees it).
     */
    private static void fellAfterCommit(MongoClient raw, String opId) {
        JsonObject longAgo = new JsonObject().put("$date", "2000-01-01T00:00:00Z");
        JsonObject op = raw.findOne("ingest_ops", new JsonObject().put("_id", opId), null)
                .await();
        JsonObject set = new JsonObject()
                .put("step", "COMMITTED")
                .put("terminal", false)
                .put("leaseOwner", "upload:" + opId)
                .put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, "upload:" + opId))
                .put("leaseUntil", longAgo)
                .put("updatedAt", longAgo);
        if (!Kind.UPLOAD.name().equals(op.getString("kind"))) {
            set.put(IngestOperation.OPEN_FILE, op.getString("fileId"));
        }
        long fell = raw.updateCollection(
                        "ingest_ops", new JsonObject().put("_id", opId), new JsonObject().put("$set", set))
                .await()
                .getDocModified();
        assertThat(fell).isEqualTo(1);
    }

    @Test
    @DisplayName("Two nodes recovering at once never process the same operation twice")
    void twoNodesRecoverDisjointly() throws Exception {
        String tenant = TestStack.unique("t");
        Node a = Node.start(config(), false).await();
        Node b = Node.start(config(), false).await();
        MongoClient raw = rawClient(a);
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
                        null,
                        null);
                // The blob before its operation: a sweep (a node's start-up one) may undo the operation as
                // soon as it is recorded, and a blob put after that undo would be left behind.
                a.stores()
                        .blobs()
                        .putBytes(op.blobKey(), Buffer.buffer("x"), "text/plain", Map.of())
                        .await();
                a.stores().operations().begin(op).await();
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
            // A node's start-up sweep may hold some of the operations while the two requested sweeps
            // answer: wait until each is ABORTED (an undo's last write) before reading the stores.
            for (String id : opIds) {
                JsonObject doc = Await.value(
                        "operation " + id + " to be ABORTED",
                        30_000,
                        () -> raw.findOne("ingest_ops", new JsonObject().put("_id", id), null)
                                .await(),
                        d -> "ABORTED".equals(d.getString("step")));
                assertThat(doc.getInteger("claims")).as("claims of " + id).isEqualTo(1);
            }
            assertNothingLeft(a.stores(), tenant);
        } finally {
            raw.close().await();
            b.stop().await();
            a.stop().await();
        }
    }

    @Test
    @DisplayName("An upload that outlives the grace period keeps its lease while its node lives: recovery leaves it")
    void slowUploadKeepsItsLease() throws Exception {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8(Fixtures.prose(300));
        CountDownLatch reached = new CountDownLatch(1);
        Promise<Void> release = Promise.promise();
        AtomicReference<String> held = new AtomicReference<>();
        Node slow = Node.start(config(), false, pauseAfter(Step.METADATA_WRITTEN, reached, release, held))
                .await();
        Node other = Node.start(config(), false).await();
        try {
            Future<HttpResponse<Buffer>> upload = uploadAsync(slow, tenant, bytes);
            assertThat(reached.await(60, TimeUnit.SECONDS)).isTrue();
            // Both nodes sweep again and again, and must not touch the upload, until its node has renewed
            // its lease 3.5 grace periods after the operation began (what is under test is that time passes
            // with the lease held: the renewal is the signal that it did, each sweep after it the check).
            IngestOperation paused = slow.stores().operations().get(held.get()).await();
            Instant renewedPast = paused.createdAt().plusMillis(4_500);
            Await.until("the paused upload's lease renewed 3.5 grace periods after it began", 30_000, () -> {
                sweep(other);
                sweep(slow);
                assertThat(slow.stores().operations().countOpen(tenant).await()).isEqualTo(1);
                IngestOperation op = slow.stores().operations().get(held.get()).await();
                assertThat(op.step().terminal())
                        .as("the paused upload ended by recovery")
                        .isFalse();
                return op.leaseUntil() != null && op.leaseUntil().isAfter(renewedPast);
            });
            sweep(other);
            sweep(slow);
            assertThat(slow.stores().operations().countOpen(tenant).await()).isEqualTo(1);
            assertThat(slow.stores().operations().get(held.get()).await().step().terminal())
                    .as("the paused upload ended by the last sweeps")
                    .isFalse();
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
        MongoClient raw = rawClient(node);
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
