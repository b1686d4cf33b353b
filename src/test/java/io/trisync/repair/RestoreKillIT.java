package io.trisync.repair;

import static io.trisync.repair.RepairFixture.analyze;
import static io.trisync.repair.RepairFixture.fixAndWait;
import static io.trisync.repair.RepairFixture.issues;
import static io.trisync.repair.RepairFixture.key;
import static io.trisync.repair.RepairFixture.post;
import static io.trisync.repair.RepairFixture.quarantinedObjects;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.PausingNodeMain;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A record restore killed part way (SIGKILL of the node's JVM) is finished by the next fix on the same
 * data (docs/design.md, "A lost record is restored from its upload (seventeenth session)"). Two
 * tenants, each with two files whose records were removed with the MongoDB client, one of them also
 * missing a point: the fix of the first is killed while its restores wait for their memory share,
 * after their checks and before they read the object and insert the record ({@link
 * PausingNodeMain#MEMORY}); the fix of the second is killed after a record was inserted, while the
 * re-embed of its missing point waits for the embedding service (held by the test). After each
 * restart a fix, and then the stores read with their clients: each record restored once with the
 * upload's fields, its object intact, every point there and made by the model in use, nothing
 * quarantined, and a scan finds nothing.
 */
@Timeout(300)
class RestoreKillIT {

    private static final Logger LOG = LoggerFactory.getLogger(RestoreKillIT.class);
    private static final String MODEL = "restore-kill";
    /** The name the points and records give the model in use (an OpenAI-compatible model: name@dimensions). */
    private static final String MODEL_IN_USE = MODEL + "@384";
    /** The file that keeps its points; the one that also lost one. */
    private static final String WHOLE = "whole.txt";

    private static final String SHORT = "short.txt";

    private final EmbeddingServer embedder = new EmbeddingServer(384);
    private final Vertx vertx = Vertx.vertx();
    private final ChildNode node = new ChildNode(TestStack.tempDir("trisync-restore-kill"), embedder.nodeEnv(MODEL));

    /** A file as its upload left it: the record read back before it was removed, and its bytes. */
    private record Lost(FileRecord was, byte[] bytes) {}

    @AfterEach
    void stop() {
        node.close();
        embedder.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("kill -9 of a fix before its restores insert the records, and after one is inserted while its"
            + " missing point is re-embedded: the next fix restores each record once, as the upload wrote it,"
            + " with every point, and a scan is clean")
    void restoreKilledPartWay() {
        String before = TestStack.unique("restore-kill-a");
        String after = TestStack.unique("restore-kill-b");
        Map<String, Lost> beforeInsert;
        Map<String, Lost> afterInsert;

        // The budget held from the start: the fix's restores stop where they wait for it.
        node.start(120, PausingNodeMain.class.getName(), Map.of("TEST_PAUSE_AT", PausingNodeMain.MEMORY));
        try (Http http = new Http(vertx, node.httpPort())) {
            beforeInsert = lostRecords(http, before);
            afterInsert = lostRecords(http, after);
            startFix(http, before);
            Await.until("a restore of " + before + " to wait for its memory share", 60_000, () -> node.logText()
                    .contains(PausingNodeMain.PAUSED + "memory AT " + PausingNodeMain.MEMORY));
        }
        assertNoRecords(beforeInsert);
        node.kill();

        node.start(120);
        try (Http http = new Http(vertx, node.httpPort())) {
            JsonObject fix = fixAndWait(http, before);
            assertThat(actions(fix))
                    .as("the fix after the kill: %s", fix.encodePrettily())
                    .containsExactlyInAnyOrder(
                            "RESTORE_RECORD:" + id(beforeInsert, WHOLE) + ":done",
                            "RESTORE_RECORD:" + id(beforeInsert, SHORT) + ":done",
                            "REEMBED:" + id(beforeInsert, SHORT) + ":done");
            assertRestored(http, before, beforeInsert);

            // Every request held: the restore inserts the record, then its re-embed waits.
            embedder.hold();
            startFix(http, after);
            Await.until(
                    "the re-embed of " + after + "'s restored file to reach the embedding service",
                    60_000,
                    () -> embedder.held() > 0);
        }
        Stores live = Stores.create(vertx, node.storesConfig());
        try {
            assertThat(live.metadata().get(id(afterInsert, SHORT)).await().sha256())
                    .as("the record inserted before the kill")
                    .isEqualTo(afterInsert.get(SHORT).was().sha256());
        } finally {
            live.close().await();
        }
        node.kill();
        embedder.release();

        node.start(120);
        try (Http http = new Http(vertx, node.httpPort())) {
            JsonObject fix = fixAndWait(http, after);
            Set<String> taken = actions(fix);
            assertThat(taken)
                    .as("the fix after the kill: %s", fix.encodePrettily())
                    .contains(
                            "RESTORE_RECORD:" + id(afterInsert, SHORT) + ":already_resolved",
                            "REEMBED:" + id(afterInsert, SHORT) + ":done")
                    .allSatisfy(a -> assertThat(a).doesNotEndWith(":failed"));
            assertRestored(http, after, afterInsert);
            LOG.info("Restores killed before their insert and during the re-embed after it: {}", taken);
        }
    }

    /**
     * Uploads {@link #WHOLE} and {@link #SHORT} for {@code tenant}, removes both records with the
     * MongoDB client and one point of {@link #SHORT}, and scans: both can be restored.
     */
    private Map<String, Lost> lostRecords(Http http, String tenant) {
        Map<String, Lost> lost = new LinkedHashMap<>();
        Stores s = Stores.create(vertx, node.storesConfig());
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(node.storesConfig().mongo()));
        try {
            for (String name : List.of(WHOLE, SHORT)) {
                byte[] bytes = Fixtures.utf8(Fixtures.prose(360) + " " + name + " of " + tenant);
                var r = http.upload(tenant, name, "text/plain", bytes, null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                FileRecord was =
                        s.metadata().get(r.bodyAsJsonObject().getString("id")).await();
                assertThat(was.embedding().chunks()).as("chunks of %s", name).isGreaterThan(1);
                assertThat(mongo.removeDocument("files", new JsonObject().put("_id", was.id()))
                                .await()
                                .getRemovedCount())
                        .isEqualTo(1);
                lost.put(name, new Lost(was, bytes));
            }
            s.vectors()
                    .delete(List.of(StoreKeys.chunkPointId(id(lost, SHORT), 1)))
                    .await();
        } finally {
            mongo.close().await();
            s.close().await();
        }
        Set<String> expected = new TreeSet<>();
        lost.values().forEach(l -> {
            expected.add("ORPHAN_BLOB:" + l.was().id());
            expected.add("ORPHAN_VECTORS:" + l.was().id());
        });
        JsonObject report = analyze(http, tenant);
        assertThat(new TreeSet<>(issues(report))).as(report.encodePrettily()).isEqualTo(expected);
        var dry = post(http, "/api/sync/fix", new JsonObject().put("user_id", tenant));
        assertThat(dry.bodyAsJsonObject().getJsonArray("actions").stream()
                        .map(a -> ((JsonObject) a).getString("action"))
                        .toList())
                .as(dry.bodyAsString())
                .containsExactly("RESTORE_RECORD", "RESTORE_RECORD");
        return lost;
    }

    /** The stores read with their clients: each file as its upload left it, and a clean scan. */
    private void assertRestored(Http http, String tenant, Map<String, Lost> lost) {
        Stores s = Stores.create(vertx, node.storesConfig());
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(node.storesConfig().mongo()));
        try {
            assertThat(mongo.count("files", new JsonObject().put("tenantId", tenant))
                            .await())
                    .as("records of %s", tenant)
                    .isEqualTo(lost.size());
            for (Lost l : lost.values()) {
                FileRecord was = l.was();
                FileRecord now = s.metadata().get(was.id()).await();
                String what = was.name() + " of " + tenant;
                assertThat(now.status()).as("status of %s", what).isEqualTo(FileRecord.Status.ACTIVE);
                assertThat(now.name()).as("name of %s", what).isEqualTo(was.name());
                assertThat(now.size()).as("size of %s", what).isEqualTo(was.size());
                assertThat(now.sha256()).as("sha256 of %s", what).isEqualTo(was.sha256());
                assertThat(now.contentType()).isEqualTo(was.contentType());
                assertThat(now.partition()).isEqualTo(was.partition());
                assertThat(now.createdAt())
                        .isEqualTo(s.operations().uploadOf(was.id()).await().createdAt());
                assertThat(now.embedding()).as("embedding of %s", what).isEqualTo(was.embedding());
                assertThat(now.embedding().model()).isEqualTo(MODEL_IN_USE);
                assertThat(now.blobEtag()).isEqualTo(was.blobEtag());
                assertThat(s.blobs().getBytes(key(was)).await().getBytes())
                        .as("object of %s", what)
                        .isEqualTo(l.bytes());
                List<ChunkPoint> points = s.vectors().pointsOf(tenant, was.id()).await();
                assertThat(points.stream().map(ChunkPoint::chunk).sorted().toList())
                        .as("points of %s", what)
                        .isEqualTo(IntStream.range(0, was.embedding().chunks())
                                .boxed()
                                .toList());
                assertThat(points).allSatisfy(p -> {
                    assertThat(p.model()).isEqualTo(MODEL_IN_USE);
                    assertThat(p.contentSha256()).isEqualTo(was.sha256());
                });
            }
            assertThat(quarantinedObjects(s, tenant))
                    .as("quarantined objects of %s", tenant)
                    .isEmpty();
        } finally {
            mongo.close().await();
            s.close().await();
        }
        JsonObject scan = analyze(http, tenant);
        assertThat(scan.getJsonArray("issues"))
                .as("a scan after the fix: %s", scan.encodePrettily())
                .isEmpty();
    }

    /** No record of the files yet: the kill came before the restores' inserts. */
    private void assertNoRecords(Map<String, Lost> lost) {
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(node.storesConfig().mongo()));
        try {
            for (Lost l : lost.values()) {
                assertThat(mongo.count(
                                        "files",
                                        new JsonObject().put("_id", l.was().id()))
                                .await())
                        .as("record of %s before the kill", l.was().name())
                        .isZero();
            }
        } finally {
            mongo.close().await();
        }
    }

    private static void startFix(Http http, String tenant) {
        var started = post(
                http, "/api/sync/fix", new JsonObject().put("user_id", tenant).put("dry_run", false));
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
    }

    /** The fix's actions as "ACTION:file:status". */
    private static Set<String> actions(JsonObject fix) {
        Set<String> out = new TreeSet<>();
        fix.getJsonArray("actions").forEach(x -> {
            JsonObject a = (JsonObject) x;
            out.add(a.getString("action") + ":" + a.getString("file_id") + ":" + a.getString("status"));
        });
        return out;
    }

    private static String id(Map<String, Lost> lost, String name) {
        return lost.get(name).was().id();
    }
}
