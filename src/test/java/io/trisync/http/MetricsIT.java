package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code /metrics} on a node with stores of its own (so the cluster-wide gauges are this test's):
 * after damage made with the raw clients and a scan, the issue counts by type, the files by verdict
 * and the drift ratio are the report's; after a repair and a new scan they fall; the counters of
 * uploads, operations, store requests, embeddings and events moved; and {@code promtool check
 * metrics} (Debian's {@code prometheus} package, installed by {@code .ci/run}) accepts the whole output.
 */
@Timeout(240)
class MetricsIT {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    @Test
    @DisplayName(
            "Drift metrics match the scan report and fall after a repair; counters moved; promtool accepts the output")
    void driftMatchesTheReport() throws Exception {
        Node node = Node.start(TestStack.config(Map.of("METRICS_STORE_REFRESH_SECONDS", "0")), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("metrics");
            List<FileRecord> files = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                var r = http.upload(
                        tenant, "m" + i + ".txt", "text/plain", Fixtures.utf8(Fixtures.prose(80) + " " + i), null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                files.add(s.metadata().get(r.bodyAsJsonObject().getString("id")).await());
            }
            // The node that received each upload completed it too: it indexed the bytes it had spooled
            // and S3 acknowledged, without reading the blob back.
            Map<String, Double> uploaded = scrape(http);
            assertThat(sum(uploaded, "trisync_store_request_duration_seconds_count", "operation=\"PutObject\""))
                    .isEqualTo(6.0);
            assertThat(sum(uploaded, "trisync_store_request_duration_seconds_count", "operation=\"GetObject\""))
                    .isZero();
            // One blob gone, two files' vectors gone, one object no record names.
            s.blobs().delete(key(files.get(0))).await();
            s.vectors().deleteFile(tenant, files.get(1).id()).await();
            s.vectors().deleteFile(tenant, files.get(2).id()).await();
            String orphan = StoreKeys.blobKey(
                    tenant,
                    StoreKeys.partition(
                            Fixtures.fileId("orphan-object"),
                            node.config().sync().partitions()),
                    Fixtures.fileId("orphan-object"));
            s.blobs()
                    .putBytes(orphan, Buffer.buffer("left by hand"), "text/plain", Map.of())
                    .await();

            JsonObject report = post(http, "/api/sync/analyze", new JsonObject().put("user_id", tenant));
            Map<String, Double> m = scrape(http);
            JsonObject byType = report.getJsonObject("summary").getJsonObject("issues_by_type");
            assertThat(byType.fieldNames()).contains("MISSING_BLOB", "MISSING_VECTORS", "ORPHAN_BLOB");
            for (String type : byType.fieldNames()) {
                assertThat(m.get("trisync_open_issues{type=\"" + type + "\"}"))
                        .as(type)
                        .isEqualTo(byType.getLong(type).doubleValue());
            }
            assertThat(m.get("trisync_open_issues{type=\"ORPHAN_VECTORS\"}")).isZero();
            long synced = report.getJsonObject("summary").getLong("synced");
            assertThat(synced).isEqualTo(3);
            assertThat(m.get("trisync_files{status=\"synced\"}")).isEqualTo(3.0);
            assertThat(m.get("trisync_files{status=\"missing\"}") + m.get("trisync_files{status=\"out_of_sync\"}"))
                    .isEqualTo(3.0);
            // Of the six recorded files three are not synced (the orphan object has no record).
            assertThat(m.get("trisync_drift_ratio")).isEqualTo(0.5);
            assertThat(m.get("trisync_tenants_never_scanned")).isZero();
            assertThat(m.get("trisync_oldest_scan_age_seconds")).isBetween(0.0, 120.0);
            assertThat(m.get("trisync_store_state_age_seconds")).isBetween(0.0, 60.0);
            assertThat(m.get("trisync_ingest_total{kind=\"upload\",outcome=\"ok\"}"))
                    .isEqualTo(6.0);
            for (String stage : List.of("begin", "blob_put", "completion", "index", "writes", "commit", "events")) {
                assertThat(m.get("trisync_upload_stage_duration_seconds_count{stage=\"" + stage + "\"}"))
                        .as("uploads timed at stage " + stage)
                        .isEqualTo(6.0);
            }
            assertThat(m.get("trisync_operations_total{kind=\"scan\",outcome=\"completed\"}"))
                    .isGreaterThanOrEqualTo(1.0);
            assertThat(m.get("trisync_operation_duration_seconds_count{kind=\"scan\"}"))
                    .isGreaterThanOrEqualTo(1.0);
            assertThat(m.get("trisync_embedding_chunks_total")).isGreaterThanOrEqualTo(6.0);
            assertThat(m.get("trisync_events_published_total{type=\"file.uploaded\"}"))
                    .isEqualTo(6.0);
            assertThat(m.get("trisync_events_published_total{type=\"sync.issue_detected\"}"))
                    .isEqualTo((double) report.getJsonArray("issues").size());
            assertThat(sum(m, "trisync_store_request_duration_seconds_count", "store=\"s3\""))
                    .isGreaterThan(6.0);
            assertThat(sum(m, "trisync_store_request_duration_seconds_count", "store=\"qdrant\""))
                    .isGreaterThan(6.0);
            assertThat(sum(m, "trisync_store_request_duration_seconds_count", "store=\"mongodb\""))
                    .isGreaterThan(6.0);

            var fix = http.post(
                    "/api/sync/fix",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("user_id", tenant)
                            .put("dry_run", false)
                            .encode()));
            assertThat(fix.statusCode()).as(fix.bodyAsString()).isEqualTo(202);
            String opId = fix.bodyAsJsonObject().getString("operation_id");
            Await.until("the repair to complete", 60_000, () -> "completed"
                    .equals(http.get("/api/sync/fix/" + opId)
                            .bodyAsJsonObject()
                            .getJsonObject("operation")
                            .getString("status")));
            JsonObject after = post(http, "/api/sync/analyze", new JsonObject().put("user_id", tenant));
            Map<String, Double> m2 = scrape(http);
            JsonObject byTypeAfter = after.getJsonObject("summary").getJsonObject("issues_by_type");
            assertThat(m2.get("trisync_open_issues{type=\"MISSING_VECTORS\"}")).isZero();
            assertThat(m2.get("trisync_open_issues{type=\"ORPHAN_BLOB\"}")).isZero();
            for (String type : byTypeAfter.fieldNames()) {
                assertThat(m2.get("trisync_open_issues{type=\"" + type + "\"}"))
                        .as(type)
                        .isEqualTo(byTypeAfter.getLong(type).doubleValue());
            }
            // The blob with no backup is left to a person: one of six files still drifts.
            assertThat(m2.get("trisync_drift_ratio")).isCloseTo(1.0 / 6, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(m2.get("trisync_operations_total{kind=\"repair\",outcome=\"completed\"}"))
                    .isEqualTo(1.0);

            // One more upload is timed at every stage; an upload answered from the first with its
            // Idempotency-Key, and a new version of a file, are not timed as an upload's stages.
            byte[] keyed = Fixtures.utf8(Fixtures.prose(60) + " keyed");
            for (int i = 0; i < 2; i++) {
                var r = http.upload(tenant, "keyed.txt", "text/plain", keyed, "metrics-key");
                assertThat(r.statusCode())
                        .as("keyed upload %s: %s", i, r.bodyAsString())
                        .isIn(200, 201);
                // The bytes received are the bytes sent (a run on 2026-12-07 saw the repeat refused
                // as another file: the first had been recorded with another sha256; not reproduced).
                assertThat(r.bodyAsJsonObject().getString("sha256"))
                        .as("keyed upload %s: %s", i, r.bodyAsString())
                        .isEqualTo(Fixtures.sha256(keyed));
            }
            var replaced = http.replace(
                    "/api/files/" + files.get(4).id() + "/content?user_id=" + tenant,
                    "m4.txt",
                    "text/plain",
                    Fixtures.utf8(Fixtures.prose(70) + " second version"),
                    null);
            assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(200);
            Map<String, Double> m3 = scrape(http);
            for (String stage : List.of("begin", "blob_put", "completion", "index", "writes", "commit", "events")) {
                assertThat(m3.get("trisync_upload_stage_duration_seconds_count{stage=\"" + stage + "\"}"))
                        .as("uploads timed at stage " + stage)
                        .isEqualTo(7.0);
            }

            promtoolAccepts(http.get("/metrics").bodyAsString());
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("The counters alerts watch are exported at 0 from the first scrape; S3's not-found answers are"
            + " timed but are not store errors")
    void alertedCountersStartAtZeroAndNotFoundIsNoError() throws Exception {
        Node node = Node.start(TestStack.config(Map.of()), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Map<String, Double> first = scrape(http);
            // A series that first appears at 1 shows no increase(): the rules would miss the first one.
            for (String layer : List.of("process", "cluster", "deadline", "heartbeat")) {
                assertThat(first).containsKey("trisync_stuck_operations_cleaned_total{layer=\"" + layer + "\"}");
            }
            for (String store : List.of("mongodb", "s3", "qdrant")) {
                assertThat(first.get("trisync_store_errors_total{store=\"" + store + "\"}"))
                        .as(store)
                        .isZero();
            }

            String tenant = TestStack.unique("notfound");
            var r = http.upload(tenant, "gone.txt", "text/plain", Fixtures.utf8(Fixtures.prose(40)), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            FileRecord file = node.stores()
                    .metadata()
                    .get(r.bodyAsJsonObject().getString("id"))
                    .await();
            node.stores().blobs().delete(key(file)).await();
            double asked = sum(scrape(http), "trisync_store_request_duration_seconds_count", "store=\"s3\"");

            // A download and a deep scan meet the missing blob: S3 answers 404 each time.
            var download = http.get("/api/files/" + file.id() + "/content?user_id=" + tenant);
            assertThat(download.statusCode()).as(download.bodyAsString()).isEqualTo(404);
            JsonObject report = post(
                    http,
                    "/api/sync/analyze",
                    new JsonObject().put("user_id", tenant).put("mode", "deep"));
            assertThat(report.getJsonObject("summary")
                            .getJsonObject("issues_by_type")
                            .fieldNames())
                    .contains("MISSING_BLOB");

            Map<String, Double> m = scrape(http);
            assertThat(sum(m, "trisync_store_request_duration_seconds_count", "store=\"s3\""))
                    .as("the 404s are timed")
                    .isGreaterThan(asked);
            assertThat(m.get("trisync_store_errors_total{store=\"s3\"}")).isZero();
        } finally {
            node.stop().await();
        }
    }

    /** The whole exposition through {@code promtool check metrics}: exit 0 and no lint finding. */
    static void promtoolAccepts(String exposition) throws Exception {
        Path in = Files.createTempFile("metrics", ".txt");
        Files.writeString(in, exposition);
        Process p = new ProcessBuilder("promtool", "check", "metrics")
                .redirectInput(in.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.strip()).as("promtool findings").isEmpty();
    }

    /** Every sample of {@code /metrics}, keyed by name and labels as printed. */
    static Map<String, Double> scrape(Http http) {
        var r = http.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Double> out = new HashMap<>();
        for (String line : r.bodyAsString().split("\n")) {
            Matcher matcher = SAMPLE.matcher(line);
            if (!line.startsWith("#") && matcher.matches()) {
                out.put(
                        matcher.group(1) + (matcher.group(2) == null ? "" : matcher.group(2)),
                        Double.parseDouble(matcher.group(3)));
            }
        }
        return out;
    }

    private static double sum(Map<String, Double> samples, String name, String label) {
        return samples.entrySet().stream()
                .filter(e -> e.getKey().startsWith(name + "{") && e.getKey().contains(label))
                .mapToDouble(Map.Entry::getValue)
                .sum();
    }

    private static JsonObject post(Http http, String path, JsonObject body) {
        var r = http.post(path, "application/json", Buffer.buffer(body.encode()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static String key(FileRecord f) {
        return StoreKeys.blobKey(f.tenantId(), f.partition(), f.id());
    }
}
