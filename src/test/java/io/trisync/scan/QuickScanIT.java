package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The quick check: a sample checked in full with an estimated rate and its interval, orphans found in full. */
@Timeout(300)
class QuickScanIT {

    private static final int P = 8;

    @Test
    @DisplayName("Quick: the estimated inconsistency rate's 95% interval covers the injected rate; every orphan is"
            + " reported; only sampled files are judged; nothing is recorded")
    void quickCheck() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "" + P)), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("quick");
            int n = 1500;
            Set<String> damaged = new HashSet<>();
            List<FileRecord> records = new ArrayList<>();
            List<ChunkPoint> points = new ArrayList<>();
            List<Future<?>> puts = new ArrayList<>();
            Instant now = Instant.now();
            float[] v = new float[384];
            v[0] = 1;
            for (int i = 0; i < n; i++) {
                String id = Fixtures.fileId(String.format("q-%05d", i));
                byte[] bytes = ("content of " + id).getBytes();
                String sha = Fixtures.sha256(bytes);
                int partition = StoreKeys.partition(id, P);
                records.add(new FileRecord(
                        id,
                        tenant,
                        id + ".txt",
                        "text/plain",
                        bytes.length,
                        sha,
                        FileRecord.Status.ACTIVE,
                        1,
                        partition,
                        new FileRecord.Embedding(MiniLmEmbeddingModel.NAME, 384, 1, sha),
                        now,
                        now,
                        null));
                points.add(ChunkPoint.of(tenant, id, 0, partition, sha, MiniLmEmbeddingModel.NAME, v));
                boolean lose = i % 10 == 3; // 10% of files lose their blob
                if (lose) {
                    damaged.add(id);
                } else {
                    puts.add(s.blobs()
                            .putBytes(
                                    StoreKeys.blobKey(tenant, partition, id),
                                    Buffer.buffer(bytes),
                                    "text/plain",
                                    Map.of("sha256", sha)));
                }
                if (puts.size() == 64) {
                    Future.all(puts).await();
                    puts.clear();
                }
            }
            Future.all(puts).await();
            s.metadata().upsertAll(records).await();
            s.vectors().upsert(points).await();
            for (int i = 0; i < 25; i++) {
                String orphan = Fixtures.fileId("stray-" + i);
                s.blobs()
                        .putBytes(
                                StoreKeys.blobKey(tenant, StoreKeys.partition(orphan, P), orphan),
                                Buffer.buffer("x"),
                                "text/plain",
                                Map.of())
                        .await();
            }

            var response = http.post(
                    "/api/sync/analyze",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("user_id", tenant)
                            .put("mode", "quick")
                            .put("sample_size", 400)
                            .put("seed", 20261123)
                            .encode()));
            assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
            JsonObject report = response.bodyAsJsonObject();
            JsonObject sample = report.getJsonObject("sample");
            // A fixed seed makes the sample (and so this test) deterministic; the interval covering the
            // injected rate is what a 95% interval does for 95% of seeds.
            assertThat(sample.getLong("seed")).isEqualTo(20261123);
            assertThat(sample.getLong("population")).isEqualTo(n);
            assertThat(sample.getLong("sample_size")).isBetween(300L, 500L);
            assertThat(sample.getDouble("ci95_low")).isLessThanOrEqualTo(0.10);
            assertThat(sample.getDouble("ci95_high")).isGreaterThanOrEqualTo(0.10);
            assertThat(sample.getDouble("ci95_high") - sample.getDouble("ci95_low"))
                    .isLessThan(0.10);

            long orphans = report.getJsonObject("summary")
                    .getJsonObject("issues_by_type")
                    .getLong("ORPHAN_BLOB");
            assertThat(orphans).as("every orphan, not a sample of them").isEqualTo(25);
            long missing = report.getJsonObject("summary")
                    .getJsonObject("issues_by_type")
                    .getLong("MISSING_BLOB", 0L);
            assertThat(missing).isEqualTo(sample.getLong("inconsistent"));
            report.getJsonArray("issues").forEach(i -> {
                JsonObject issue = (JsonObject) i;
                if (issue.getString("type").equals("MISSING_BLOB")) {
                    assertThat(damaged).contains(issue.getString("file_id"));
                }
            });
            assertThat(report.getJsonObject("summary").getLong("total_files"))
                    .as("the sampled files (orphans are issues, not files)")
                    .isEqualTo(sample.getLong("sample_size"));
            assertThat(s.issues().openFor(tenant, 10).await())
                    .as("a quick check records nothing")
                    .isEmpty();

            var bad = http.post(
                    "/api/sync/analyze",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("user_id", tenant)
                            .put("mode", "quick")
                            .put("sample_size", 0)
                            .encode()));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.bodyAsString()).contains("sample_size");
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A quick check is not the tenant's last scan: the status, the scan-age metrics and the periodic"
            + " check see only scans that recorded verdicts")
    void quickCheckIsNotTheLastScan() {
        // Stores of its own: the tenant-wide gauges and the periodic check see this test's tenant only.
        Node node = Node.start(TestStack.config(Map.of("METRICS_STORE_REFRESH_SECONDS", "0")), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("quicklast");
            var upload = http.upload(tenant, "a.txt", "text/plain", Fixtures.utf8(Fixtures.prose(30)), null);
            assertThat(upload.statusCode()).as(upload.bodyAsString()).isEqualTo(201);

            quick(http, tenant);
            assertThat(lastScanAt(http, tenant)).as("a quick check only").isNull();
            assertThat(http.get("/metrics").bodyAsString()).contains("trisync_tenants_never_scanned 1.0");
            JsonObject due = periodicCheck(node);
            assertThat(due.getJsonArray("operation_ids")).as(due.encode()).hasSize(1);
            String full = Await.value(
                    "the periodic scan to complete", 60_000, () -> lastScanAt(http, tenant), at -> at != null);

            quick(http, tenant);
            assertThat(lastScanAt(http, tenant)).isEqualTo(full);
            JsonObject notDue = periodicCheck(node);
            assertThat(notDue.getJsonArray("skipped").getList())
                    .as(notDue.encode())
                    .containsExactly(tenant);
            assertThat(notDue.getJsonArray("operation_ids")).isEmpty();
        } finally {
            node.stop().await();
        }
    }

    private static void quick(Http http, String tenant) {
        var r = http.post(
                "/api/sync/analyze",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("mode", "quick")
                        .encode()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    }

    private static String lastScanAt(Http http, String tenant) {
        var r = http.get("/api/sync/status/" + tenant);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getString("last_scan_at");
    }

    /** What each node's periodic timer asks: scans of the tenants not scanned within the check interval. */
    private static JsonObject periodicCheck(Node node) {
        return node.vertx()
                .eventBus()
                .<JsonObject>request(
                        ScanAddresses.CONSISTENCY_CHECK, new ScanMessages.ConsistencyCheck(true, null).toJson())
                .await()
                .body();
    }
}
