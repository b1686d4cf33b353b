package io.trisync.bench;

import io.trisync.Node;
import io.trisync.repair.RepairAddresses;
import io.trisync.scan.ScanAddresses;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.testsupport.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Repair throughput on the in-memory embedded stack with the real embedding model: N files whose
 * vectors are all missing (each re-extracted and re-embedded from its blob; one chunk per file), and
 * N orphan points (deleted). Seeded straight into the stores, scanned, then fixed; the fix alone is
 * timed. Prints figures; asserts nothing about time.
 */
@Tag("bench")
class RepairBench {

    @Test
    void repair() throws Exception {
        int n = Integer.getInteger("bench.repair.n", 10_000);
        List<String> rows = new ArrayList<>();
        Node node = Node.start(IngestBench.config(false), false).await();
        try {
            Stores s = node.stores();
            rows.add(run(node, "missing vectors (re-embed)", seedMissingVectors(s, "rb-embed", n), n));
            rows.add(run(node, "orphan points (delete)", seedOrphanPoints(s, "rb-orphans", n), n));
        } finally {
            node.stop().await();
        }
        String report = String.join("\n", rows);
        System.out.println("\n=== Repair, N=" + n + " ===\n" + report + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/repair.md"), report + "\n");
    }

    private static String run(Node node, String what, String tenant, int n) {
        DeliveryOptions long_ = new DeliveryOptions().setSendTimeout(3_600_000);
        node.vertx()
                .eventBus()
                .request(
                        ScanAddresses.ANALYZE,
                        new JsonObject().put("tenantId", tenant).put("mode", "full"),
                        long_)
                .await();
        long start = System.nanoTime();
        String opId = node.vertx()
                .eventBus()
                .<JsonObject>request(
                        RepairAddresses.FIX,
                        new JsonObject().put("tenantId", tenant).put("dryRun", false),
                        long_)
                .await()
                .body()
                .getString("operation_id");
        SyncOperation op;
        do {
            sleep(200);
            op = node.stores().syncOperations().get(opId).await();
        } while (op.status() == SyncOperation.Status.RUNNING);
        double seconds = (System.nanoTime() - start) / 1e9;
        JsonObject result = op.result() == null ? new JsonObject() : op.result();
        return String.format(
                Locale.ROOT,
                "| %-28s | %,7d files | %6.1f s | %,8.1f files/s | %s: %d successful, %d failed |",
                what,
                n,
                seconds,
                n / seconds,
                op.status().wire(),
                result.getLong("successful", 0L),
                result.getLong("failed", 0L));
    }

    /** Active files with content and records but no points. */
    private static String seedMissingVectors(Stores s, String tenant, int n) throws Exception {
        List<FileRecord> records = new ArrayList<>();
        Instant now = Instant.now();
        List<Future<?>> puts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = Fixtures.fileId(String.format("e-%07d", i));
            byte[] bytes = ("Note " + i + ": the quarterly report lists revenue, costs and the plan for the"
                            + " next release of the document platform, with owners and dates.")
                    .getBytes(StandardCharsets.UTF_8);
            String sha = HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            int p = StoreKeys.partition(id, 64);
            puts.add(s.blobs()
                    .putBytes(
                            StoreKeys.blobKey(tenant, p, id),
                            Buffer.buffer(bytes),
                            "text/plain",
                            Map.of("sha256", sha)));
            records.add(new FileRecord(
                    id,
                    tenant,
                    id + ".txt",
                    "text/plain",
                    bytes.length,
                    sha,
                    FileRecord.Status.ACTIVE,
                    1,
                    p,
                    new FileRecord.Embedding("all-minilm-l6-v2-q", 384, 1, sha),
                    now,
                    now,
                    null));
            if (puts.size() == 64) {
                Future.all(puts).await();
                puts.clear();
            }
            if (records.size() == 1000) {
                s.metadata().upsertAll(records).await();
                records.clear();
            }
        }
        Future.all(puts).await();
        if (!records.isEmpty()) {
            s.metadata().upsertAll(records).await();
        }
        return tenant;
    }

    /** Points of files that have no record and no blob. */
    private static String seedOrphanPoints(Stores s, String tenant, int n) {
        float[] v = new float[384];
        v[0] = 1;
        List<ChunkPoint> points = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = Fixtures.fileId(String.format("o-%07d", i));
            points.add(ChunkPoint.of(tenant, id, 0, StoreKeys.partition(id, 64), "x", "m", v));
            if (points.size() == 1000) {
                s.vectors().upsert(points).await();
                points.clear();
            }
        }
        if (!points.isEmpty()) {
            s.vectors().upsert(points).await();
        }
        return tenant;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
