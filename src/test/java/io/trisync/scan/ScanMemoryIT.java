package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.ChildJvm;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Memory is bounded by one partition, not by the tenant: a tenant of 16,000 files over 64 partitions
 * (250 per partition) is scanned by a scan verticle in a child JVM limited to a 48 MiB heap.
 */
@Timeout(600)
class ScanMemoryIT {

    static final int FILES = 16_000;
    static final int BLOBS = 1_000;
    static final String HEAP = "-Xmx48m";

    @Test
    @DisplayName("A tenant far larger than one partition is scanned in a 48 MiB heap, every file counted")
    void scansInASmallHeap() throws Exception {
        TrisyncConfig shared = TestStack.config();
        String tenant = TestStack.unique("big");
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, TestStack.nodeConfig(Map.of()));
        long t0 = System.nanoTime();
        try {
            stores.init().await();
            seed(stores, tenant);
            System.out.printf("Seeded %,d files in %.1f s%n", FILES, (System.nanoTime() - t0) / 1e9);
        } finally {
            stores.close().await();
            vertx.close().await();
        }

        ProcessBuilder child = ChildJvm.java(List.of(HEAP), ScanInSmallHeap.class.getName(), tenant);
        child.environment().put("MONGO_URI", shared.mongo().uri());
        child.environment().put("S3_ENDPOINT", shared.s3().endpoint());
        child.environment().put("QDRANT_HOST", shared.qdrant().host());
        child.environment().put("QDRANT_PORT", String.valueOf(shared.qdrant().port()));
        child.environment().put("HTTP_PORT", "0");
        child.environment().put("DATA_DIR", TestStack.tempDir("trisync-mem").toString());
        Process process = child.start();
        JsonObject result = null;
        List<String> tail = new ArrayList<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    result = new JsonObject(line.substring(7));
                }
                tail.add(line);
                if (tail.size() > 40) {
                    tail.remove(0);
                }
            }
        }
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join("\n", tail)).isZero();
        assertThat(result).as(String.join("\n", tail)).isNotNull();
        JsonObject summary = result.getJsonObject("summary");
        assertThat(summary.getLong("total_files")).isEqualTo(FILES);
        assertThat(summary.getLong("synced")).isEqualTo(BLOBS);
        assertThat(summary.getJsonObject("issues_by_type").getLong("MISSING_BLOB"))
                .isEqualTo(FILES - BLOBS);
        assertThat(result.getInteger("listed")).isEqualTo(ScanReport.LISTED_ISSUES);
        System.out.printf(
                "Scan of %,d files in a %s child JVM: peak heap %.1f MiB of %.1f MiB; scan %.1f s, child %.1f s%n",
                FILES,
                HEAP,
                result.getLong("peakHeapBytes") / 1048576.0,
                result.getLong("maxHeapBytes") / 1048576.0,
                result.getJsonArray("scanSeconds").getDouble(0),
                result.getDouble("seconds"));
    }

    /** Records and points for every file (one chunk each), blobs for the first {@link #BLOBS}. */
    private static void seed(Stores stores, String tenant) {
        Instant now = Instant.now();
        float[] v = new float[384];
        v[0] = 1;
        String sha = "a".repeat(64);
        for (int from = 0; from < FILES; from += 1000) {
            List<FileRecord> records = new ArrayList<>();
            List<ChunkPoint> points = new ArrayList<>();
            for (int i = from; i < from + 1000; i++) {
                String id = String.format("m-%06d", i);
                int p = StoreKeys.partition(id, 64);
                records.add(new FileRecord(
                        id,
                        tenant,
                        id + ".txt",
                        "text/plain",
                        1,
                        sha,
                        FileRecord.Status.ACTIVE,
                        1,
                        p,
                        new FileRecord.Embedding("m", 384, 1, sha),
                        now,
                        now,
                        null));
                points.add(ChunkPoint.of(tenant, id, 0, p, sha, "m", v));
            }
            stores.metadata().upsertAll(records).await();
            stores.vectors().upsert(points).await();
        }
        List<Future<?>> puts = new ArrayList<>();
        for (int i = 0; i < BLOBS; i++) {
            String id = String.format("m-%06d", i);
            puts.add(stores.blobs()
                    .putBytes(
                            StoreKeys.blobKey(tenant, StoreKeys.partition(id, 64), id),
                            Buffer.buffer("x"),
                            "text/plain",
                            Map.of("sha256", sha)));
            if (puts.size() == 64) {
                Future.all(puts).await();
                puts.clear();
            }
        }
        Future.all(puts).await();
    }
}
