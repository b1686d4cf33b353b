package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildJvm;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.PausingNodeMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the receiving node answers for an upload whose completing node recorded its 202 {@code
 * completing} and died before that answer reached it (the answer lost with the node): 202 {@code
 * completing} with the upload's ids, not 503 "send it again" ({@code IngestVerticle.settleUpload}), and
 * the file is whole in all three stores afterwards.
 *
 * <p>Two clustered nodes on the test's stores (a MongoDB database of their own): node A in this JVM
 * receives HTTP and ingests; node B, a child JVM that only ingests ({@link PausingNodeMain} with {@code
 * TEST_PAUSE_AT=PROMISED}), holds every answer it promised right after the promise is recorded.
 * Completions are spread round robin, so uploads are sent one at a time, the embedding service on
 * loopback holding every answer so each outlives the 1 s answer deadline, until one is held by B (B
 * prints {@code PAUSED}); those A completed were answered 202 {@code completing} by A (completions
 * take turns between the two nodes, so the second or third upload is B's). Then the test
 * reads the held upload's operation from MongoDB (promised, not committed), kills B with SIGKILL, and
 * the client's request to A must be answered 202 {@code completing} after the kill.
 *
 * <p>A's hook cuts the first roll forward of that operation after its record is written (the only
 * place A's recovery passes it), so that whichever of A's sweeps claims it first (the one B's
 * departure starts, or the settle's own) leaves it promised and not committed when the settle reads
 * it: the case the settle's {@code op.promised()} answers. Without the cut, the settle's own sweep
 * sometimes rolls the upload forward itself first and answers with the stored record (202 {@code
 * pending}), and the branch under test is not reached. A later sweep rolls it forward; the index
 * queue makes its points once the embedding service answers again.
 */
@Timeout(300)
class SettlePromisedKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(SettlePromisedKillIT.class);
    /** Uploads sent at most before one is completed by B (two nodes share them round robin). */
    private static final int MAX_UPLOADS = 6;

    private static final Pattern PAUSED =
            Pattern.compile(Pattern.quote(PausingNodeMain.PAUSED) + "(\\S+) AT " + PausingNodeMain.PROMISED);

    @Test
    @DisplayName("kill -9 of the node completing an upload after it recorded the 202 and before that answer"
            + " reached the receiving node: the client is answered 202 completing with the upload's ids (not 503),"
            + " and the file is whole in all three stores afterwards")
    void promisedUploadOfDepartedNodeIsAnswered202() {
        EmbeddingServer embedder = new EmbeddingServer(384);
        Map<String, String> env = nodeEnv(embedder);
        CutFirstRollForward hooks = new CutFirstRollForward();
        Node a = Node.start(TestStack.nodeConfig(with(env, Map.of("NODE_ID", "settle-a"))), true, hooks)
                .await();
        Path dir = TestStack.tempDir("trisync-settle-promised");
        Path bLog = dir.resolve("node-b.log");
        Process b = null;
        Vertx vertx = Vertx.vertx();
        WebClient web = WebClient.create(vertx);
        Stores stores = Stores.create(vertx, a.config());
        String tenant = TestStack.unique("settle");
        try {
            b = startPausing(a.config(), env, dir, bLog);

            embedder.hold();
            Map<String, String> acceptedByA = new HashMap<>();
            Future<HttpResponse<Buffer>> held = null;
            String heldOp = null;
            String text = null;
            for (int sent = 0; held == null; sent++) {
                assertThat(sent)
                        .as("uploads sent without one completed by node B (see %s)", bLog)
                        .isLessThan(MAX_UPLOADS);
                String body = "Settle round " + sent + ". " + Fixtures.prose(60);
                Future<HttpResponse<Buffer>> upload = upload(web, a, tenant, "settle-" + sent + ".txt", body);
                Process node = b;
                String paused = Await.value(
                        "upload " + sent + " to be answered by node A or held by node B",
                        30_000,
                        () -> {
                            if (!node.isAlive()) {
                                throw new IllegalStateException(
                                        "node B exited with " + node.exitValue() + "; see " + bLog);
                            }
                            return upload.isComplete() ? "" : pausedOp(bLog);
                        },
                        found -> found != null);
                if (paused.isEmpty()) {
                    HttpResponse<Buffer> r = upload.await();
                    assertThat(r.statusCode())
                            .as("an upload node A completed, its embedding held: %s", r.bodyAsString())
                            .isEqualTo(202);
                    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("completing");
                    acceptedByA.put(r.bodyAsJsonObject().getString("id"), Fixtures.sha256(Fixtures.utf8(body)));
                } else {
                    held = upload;
                    heldOp = paused;
                    text = body;
                }
            }
            String opId = heldOp;
            String sha256 = Fixtures.sha256(Fixtures.utf8(text));

            IngestOperation promised = stores.operations().get(opId).await();
            assertThat(promised.kind()).isEqualTo(IngestOperation.Kind.UPLOAD);
            assertThat(promised.promisedAt())
                    .as("the 202 of operation %s recorded before the kill", opId)
                    .isNotNull();
            assertThat(promised.step())
                    .as("operation %s before the kill", opId)
                    .isNotIn(Step.COMMITTED, Step.DONE, Step.ABORTED);
            assertThat(held.isComplete())
                    .as("the client's request while node B holds its answer")
                    .isFalse();
            hooks.cut(opId);
            ChildJvm.kill(b, "node B");

            Future<HttpResponse<Buffer>> answer = held;
            Await.until("the held upload to be answered by node A after node B's kill", 60_000, answer::isComplete);
            HttpResponse<Buffer> r = answer.await();
            assertThat(r.statusCode())
                    .as(
                            "the answer to an upload promised 202 by a node that died before answering: %s",
                            r.bodyAsString())
                    .isEqualTo(202);
            JsonObject accepted = r.bodyAsJsonObject();
            assertThat(accepted.getString("status")).isEqualTo("completing");
            assertThat(accepted.getString("operation_id")).isEqualTo(opId);
            assertThat(accepted.getString("id")).isEqualTo(promised.fileId());
            assertThat(accepted.getString("sha256")).isEqualTo(sha256);
            Await.until("node A's recovery to reach the held upload's roll forward", 30_000, hooks::reached);
            String id = promised.fileId();

            embedder.release();
            Await.until(
                    "operation " + opId + " to end after node B's kill",
                    60_000,
                    () -> stores.operations().get(opId).await().step().terminal());
            IngestOperation op = stores.operations().get(opId).await();
            assertThat(op.step()).as("operation %s", opId).isEqualTo(Step.DONE);
            assertThat(op.promisedAt()).isNotNull();
            Await.until(
                    "the points of file " + id + " to be made",
                    60_000,
                    () -> !stores.metadata().get(id).await().embedding().pending());
            assertWhole(stores, tenant, id, sha256);
            List<String> events = stores.events().ofFile(tenant, id, 20).await().stream()
                    .map(Event::type)
                    .toList();
            assertThat(events)
                    .as("events of file %s", id)
                    .containsOnlyOnce(EventTypes.FILE_UPLOADED)
                    .contains(EventTypes.EMBEDDING_PENDING);
            HttpResponse<Buffer> shown = get(web, a, tenant, id);
            assertThat(shown.statusCode()).as(shown.bodyAsString()).isEqualTo(200);
            assertThat(shown.bodyAsJsonObject().getString("sha256")).isEqualTo(sha256);

            List<String> ids = new ArrayList<>(acceptedByA.keySet());
            for (String other : ids) {
                Await.until(
                        "file " + other + ", answered 202 by node A, to be whole",
                        60_000,
                        () -> get(web, a, tenant, other).statusCode() == 200
                                && !stores.metadata()
                                        .get(other)
                                        .await()
                                        .embedding()
                                        .pending());
                assertWhole(stores, tenant, other, acceptedByA.get(other));
            }
            JsonObject report = Http.fullScan(web, a.httpPort(), tenant);
            assertThat(report.getJsonArray("issues"))
                    .as("issues a full scan finds: %s", report.encode())
                    .isEmpty();
            assertThat(report.getJsonObject("summary").getLong("total_files")).isEqualTo(ids.size() + 1L);
            LOG.info(
                    "Upload {} (operation {}) held by node B at its promise, answered 202 completing after the kill;"
                            + " {} other uploads completed by node A; events {}",
                    id,
                    opId,
                    ids.size(),
                    events);
        } finally {
            if (b != null && b.isAlive()) {
                ChildJvm.kill(b, "node B");
            }
            stores.close().await();
            a.stop().await();
            embedder.close();
            web.close();
            vertx.close().await();
        }
    }

    /** Settings of both nodes: 202 completing after a second, recovery within a few seconds, a database of their own. */
    private static Map<String, String> nodeEnv(EmbeddingServer embedder) {
        Map<String, String> env = new HashMap<>(embedder.nodeEnv("settle-promised"));
        env.put("INGEST_ANSWER_WITHIN_SECONDS", "1");
        env.put("INGEST_RECOVERY_INTERVAL_SECONDS", "2");
        env.put("INGEST_RECOVERY_GRACE_SECONDS", "2");
        env.put("MONGO_DB", TestStack.unique("settle").replace('-', '_'));
        return env;
    }

    private static Map<String, String> with(Map<String, String> env, Map<String, String> more) {
        Map<String, String> all = new HashMap<>(env);
        all.putAll(more);
        return all;
    }

    /**
     * Starts node B in a child JVM: in {@code a}'s cluster, on its stores, ingest only, holding every
     * answer it promised ({@link PausingNodeMain#PROMISED}); waits until it has started.
     */
    private static Process startPausing(TrisyncConfig a, Map<String, String> env, Path dir, Path log) {
        Map<String, String> all = with(
                env,
                Map.of(
                        "NODE_ID", "settle-b",
                        "NODE_ROLES", "ingest",
                        "CLUSTER_NAME", a.clusterName(),
                        "MONGO_URI", a.mongo().uri(),
                        "S3_ENDPOINT", a.s3().endpoint(),
                        "QDRANT_HOST", a.qdrant().host(),
                        "QDRANT_PORT", String.valueOf(a.qdrant().port()),
                        "DATA_DIR", dir.resolve("node-b").toString(),
                        "AUTH_ENABLED", "false",
                        "TEST_PAUSE_AT", PausingNodeMain.PROMISED));
        ProcessBuilder builder = ChildJvm.java(List.of("-Xmx512m"), PausingNodeMain.class.getName(), "--cluster")
                .redirectOutput(log.toFile());
        builder.environment().putAll(all);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Await.until("node B to start (see " + log + ")", 180_000, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("node B exited with " + process.exitValue() + "; see " + log);
            }
            return read(log).contains("Node settle-b started");
        });
        return process;
    }

    /** The operation node B says it holds at its promise, or null while it has said none. */
    private static String pausedOp(Path log) {
        Matcher m = PAUSED.matcher(read(log));
        return m.find() ? m.group(1) : null;
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Node A's hooks: the first time recovery passes the record of operation {@link #cut(String)}
     * (its roll forward), that roll forward fails there as if cut off, leaving the operation promised
     * and not committed; a later sweep takes it again and rolls it forward.
     */
    private static final class CutFirstRollForward implements IngestHooks {

        private final AtomicReference<String> target = new AtomicReference<>();
        private final AtomicBoolean reached = new AtomicBoolean();

        /** Cuts the first roll forward of operation {@code opId}. */
        void cut(String opId) {
            target.set(opId);
        }

        /** Whether the roll forward was cut. */
        boolean reached() {
            return reached.get();
        }

        @Override
        public Future<Void> after(IngestOperation op, Step step) {
            String cut = target.get();
            if (step == Step.METADATA_WRITTEN && op.id().equals(cut) && target.compareAndSet(cut, null)) {
                reached.set(true);
                return Future.failedFuture(
                        new Failure.Unavailable("the test cut the first roll forward of operation " + op.id()));
            }
            return Future.succeededFuture();
        }
    }

    private static void assertWhole(Stores stores, String tenant, String id, String sha256) {
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).as("record of %s", id).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.sha256()).isEqualTo(sha256);
        String key = StoreKeys.blobKey(tenant, record.partition(), id);
        assertThat(stores.blobs().head(key).await().sha256())
                .as("blob of %s", id)
                .isEqualTo(sha256);
        assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                .isEqualTo(sha256);
        assertThat(record.embedding().pending()).isFalse();
        assertThat(record.embedding().chunks()).isPositive();
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of %s", id)
                .isEqualTo(record.embedding().chunks());
    }

    private static Future<HttpResponse<Buffer>> upload(WebClient web, Node a, String tenant, String name, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        return web.post(a.httpPort(), "127.0.0.1", "/api/files")
                .timeout(120_000)
                .sendMultipartForm(form);
    }

    private static HttpResponse<Buffer> get(WebClient web, Node a, String tenant, String id) {
        return web.get(a.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                .send()
                .await();
    }
}
