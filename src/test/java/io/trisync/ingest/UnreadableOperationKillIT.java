package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedMongo;
import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.LoadUntilKill;
import io.trisync.testsupport.PausingNodeMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery after a kill -9 goes past an operation edited by hand (docs/design.md, "An operation
 * edited by hand does not stop recovery (seventeenth session)"). A node in a child JVM takes uploads,
 * two of them stopped after their object is written and two after their commit ({@link
 * PausingNodeMain}), and is killed with SIGKILL while more uploads are in flight. With the node gone,
 * the stalest of the unfinished operations it left is given a {@code kind} trisync never writes, in
 * its MongoDB file. The node started again on the same data has only its sweep at start within the
 * test: every other unfinished operation is ended by it (a committed upload finished and whole in the
 * three stores, an uncommitted one undone and gone from them), every acknowledged upload is whole, and
 * the unreadable one is claimed once, named in an ERROR and left as it was.
 */
@Timeout(300)
class UnreadableOperationKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(UnreadableOperationKillIT.class);
    /** The operation log's collection. */
    private static final String OPS = "ingest_ops";

    private static final String UNCOMMITTED = "uncommitted.txt";
    private static final String COMMITTED = "committed.txt";
    /** Uploads of each paused name. */
    private static final int PAUSED_EACH = 2;

    private static final int CONCURRENCY = 4;
    /** The kill comes once the load has this many uploads acknowledged, with more in flight. */
    private static final int KILL_AFTER_ACKS = 6;

    private final Vertx vertx = Vertx.vertx();
    private final WebClient web = WebClient.create(vertx);
    private final String tenant = TestStack.unique("unreadable-kill");
    // Only the sweep at start recovers within the test: the next is ten minutes away.
    private final ChildNode node = new ChildNode(
            TestStack.tempDir("trisync-unreadable-kill"), Map.of("INGEST_RECOVERY_INTERVAL_SECONDS", "600"));
    /** Uploads answered 201, by file id: the sha256 of the bytes sent. */
    private final Map<String, String> acknowledged = new ConcurrentHashMap<>();

    @AfterEach
    void stop() {
        node.close();
        web.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("kill -9 with uploads in flight, then one unfinished operation made unreadable by hand: the"
            + " restarted node's first sweep ends every other one and leaves that one, claimed once and logged")
    void unreadableOperationDoesNotStopRecoveryAfterAKill() {
        node.start(
                120,
                PausingNodeMain.class.getName(),
                Map.of(
                        "TEST_PAUSE_AT",
                        "UPLOAD:" + Step.BLOB_WRITTEN + ":" + UNCOMMITTED + ",UPLOAD:" + Step.COMMITTED + ":"
                                + COMMITTED));
        for (int i = 0; i < PAUSED_EACH; i++) {
            send(UNCOMMITTED);
            send(COMMITTED);
        }
        Await.until(
                "the " + 2 * PAUSED_EACH + " uploads to stop at their step",
                60_000,
                () -> node.logText().split(PausingNodeMain.PAUSED, -1).length - 1 >= 2 * PAUSED_EACH);
        loadAndKill();

        // Nothing of trisync runs now: the operations as the kill left them, one of them edited by hand.
        List<IngestOperation> open = new ArrayList<>();
        JsonObject bad = editStalest(open);
        String badId = bad.getString(IngestOperation.ID);
        List<IngestOperation> others =
                open.stream().filter(op -> !op.id().equals(badId)).toList();
        assertThat(others.stream().filter(op -> op.step() == Step.COMMITTED))
                .as("committed operations left by the kill, besides the edited one: %s", open)
                .isNotEmpty();
        assertThat(others.stream().filter(op -> op.step() != Step.COMMITTED))
                .as("uncommitted operations left by the kill, besides the edited one: %s", open)
                .isNotEmpty();

        node.start(120);
        Stores stores = Stores.create(vertx, node.storesConfig());
        try {
            Await.until(
                    "the first sweep to end the " + others.size() + " other unfinished operations",
                    30_000,
                    () -> others.stream().allMatch(op -> stores.operations()
                            .get(op.id())
                            .await()
                            .step()
                            .terminal()));
            Await.until("the sweep to end", 30_000, () -> node.logText()
                    .contains("Recovered " + others.size() + " unfinished ingest operations"));
            int finished = 0;
            for (IngestOperation op : others) {
                if (op.step() == Step.COMMITTED) {
                    assertThat(stores.operations().get(op.id()).await().step())
                            .as("committed %s", op)
                            .isEqualTo(Step.DONE);
                    assertWhole(stores, op.fileId(), op.sha256());
                    finished++;
                } else {
                    assertThat(stores.operations().get(op.id()).await().step())
                            .as("uncommitted %s", op)
                            .isEqualTo(Step.ABORTED);
                    assertGone(stores, op);
                }
            }
            for (var upload : acknowledged.entrySet()) {
                assertWhole(stores, upload.getKey(), upload.getValue());
            }
            assertLeft(bad);
            LOG.info(
                    "After the kill: {} operations left unfinished, {} finished, {} undone, {} left unreadable;"
                            + " {} acknowledged uploads whole",
                    open.size(),
                    finished,
                    others.size() - finished,
                    1,
                    acknowledged.size());
        } finally {
            stores.close().await();
        }
        JsonObject scan = Http.fullScan(web, node.httpPort(), tenant);
        assertThat(scan.getJsonArray("issues").stream()
                        .map(i -> ((JsonObject) i).getString("file_id"))
                        .toList())
                .as("files with issues in a full scan (only the edited operation's may have some): %s", scan.encode())
                .allMatch(bad.getString(IngestOperation.FILE_ID)::equals);
        try (Http http = new Http(vertx, node.httpPort())) {
            var r = http.upload(tenant, "after.txt", "text/plain", Fixtures.utf8(Fixtures.prose(50)), null);
            assertThat(r.statusCode())
                    .as("an upload after the recovery: %s", r.bodyAsString())
                    .isEqualTo(201);
        }
    }

    /** Sends an upload that the node stops at its step: never answered, its request ends with the kill. */
    private void send(String name) {
        byte[] bytes = Fixtures.utf8(Fixtures.prose(120) + " " + name + " " + UUID.randomUUID());
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", name, Buffer.buffer(bytes), "text/plain");
        web.post(node.httpPort(), "127.0.0.1", "/api/files").timeout(120_000).sendMultipartForm(form);
    }

    /** Uploads from {@link #CONCURRENCY} clients until {@link #KILL_AFTER_ACKS} are acknowledged, then the kill. */
    private void loadAndKill() {
        LoadUntilKill.run(
                vertx,
                CONCURRENCY,
                this::upload,
                KILL_AFTER_ACKS + " acknowledged uploads",
                60_000,
                () -> acknowledged.size() >= KILL_AFTER_ACKS,
                node::kill);
    }

    private Future<?> upload() {
        byte[] bytes = Fixtures.utf8(Fixtures.prose(80) + " " + UUID.randomUUID());
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(bytes), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .timeout(15_000)
                .sendMultipartForm(form)
                .onSuccess(r -> {
                    if (r.statusCode() == 201) {
                        acknowledged.put(r.bodyAsJsonObject().getString("id"), Fixtures.sha256(bytes));
                    }
                });
    }

    /**
     * Opens the killed node's MongoDB file, reads the tenant's unfinished operations into {@code open},
     * and sets the stalest one's {@code kind} to {@code ARCHIVE} (a value trisync never writes): the
     * first a sweep claims. Returns that operation's document as the kill left it.
     */
    private JsonObject editStalest(List<IngestOperation> open) {
        EmbeddedMongo mongo;
        try {
            mongo = EmbeddedMongo.start(0, node.mongoDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        MongoClient raw = MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(new TrisyncConfig.MongoConfig(
                        mongo.connectionString(), node.storesConfig().mongo().db(), "majority")));
        try {
            List<JsonObject> docs = raw.findWithOptions(
                            OPS,
                            new JsonObject()
                                    .put(IngestOperation.TENANT_ID, tenant)
                                    .put(IngestOperation.TERMINAL, false),
                            new FindOptions().setSort(new JsonObject().put(IngestOperation.UPDATED_AT, 1)))
                    .await();
            docs.forEach(d -> open.add(IngestOperation.fromDocument(d)));
            assertThat(open).as("operations the kill left unfinished").hasSizeGreaterThanOrEqualTo(2 * PAUSED_EACH);
            JsonObject stalest = docs.get(0);
            assertThat(raw.updateCollection(
                                    OPS,
                                    new JsonObject().put(IngestOperation.ID, stalest.getString(IngestOperation.ID)),
                                    new JsonObject().put("$set", new JsonObject().put(IngestOperation.KIND, "ARCHIVE")))
                            .await()
                            .getDocModified())
                    .isEqualTo(1);
            return stalest;
        } finally {
            raw.close().await();
            mongo.close();
        }
    }

    /** The edited operation after the sweep: claimed once by the new process, logged, otherwise as it was. */
    private void assertLeft(JsonObject bad) {
        String id = bad.getString(IngestOperation.ID);
        MongoClient raw = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(node.storesConfig().mongo()));
        try {
            JsonObject now = raw.findOne(OPS, new JsonObject().put(IngestOperation.ID, id), null)
                    .await();
            assertThat(now.getString(IngestOperation.KIND)).isEqualTo("ARCHIVE");
            assertThat(now.getBoolean(IngestOperation.TERMINAL))
                    .as("edited %s", now)
                    .isFalse();
            assertThat(now.getString(IngestOperation.STEP)).isEqualTo(bad.getString(IngestOperation.STEP));
            assertThat(now.getInteger(IngestOperation.CLAIMS, 0))
                    .as("claims of the edited operation %s", now)
                    .isEqualTo(bad.getInteger(IngestOperation.CLAIMS, 0) + 1);
            assertThat(now.getString(IngestOperation.INCARNATION))
                    .as("held by the restarted process")
                    .isNotEqualTo(bad.getString(IngestOperation.INCARNATION));
        } finally {
            raw.close().await();
        }
        assertThat(node.logText())
                .as("the restarted node's log")
                .contains("Operation " + id + " in " + OPS + " cannot be read")
                .doesNotContain("Recovery sweep stopped");
    }

    /** Record active with the sha256, object with those bytes, one point per chunk. */
    private void assertWhole(Stores stores, String id, String sha256) {
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).as("record of %s", id).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.sha256()).as("record of %s", id).isEqualTo(sha256);
        String key = StoreKeys.blobKey(tenant, record.partition(), id);
        assertThat(Fixtures.sha256(stores.blobs().getBytes(key).await().getBytes()))
                .as("object of %s", id)
                .isEqualTo(sha256);
        assertThat(record.embedding().chunks()).isPositive();
        assertThat(stores.vectors().count(tenant, id).await())
                .as("points of %s", id)
                .isEqualTo(record.embedding().chunks());
    }

    /** No record, object or point of an upload that was undone. */
    private void assertGone(Stores stores, IngestOperation op) {
        Throwable record = stores.metadata()
                .get(op.fileId())
                .map(r -> (Throwable) null)
                .otherwise(e -> e)
                .await();
        assertThat(record).as("record of undone %s", op).isInstanceOf(Failure.NotFound.class);
        Throwable head = stores.blobs()
                .head(StoreKeys.blobKey(tenant, op.partition(), op.fileId()))
                .map(b -> (Throwable) null)
                .otherwise(e -> e)
                .await();
        assertThat(head).as("object of undone %s", op).isInstanceOf(Failure.NotFound.class);
        assertThat(stores.vectors().count(tenant, op.fileId()).await())
                .as("points of undone %s", op)
                .isZero();
    }
}
