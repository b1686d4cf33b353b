package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.SmallHeapChild;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Memory is bounded by one partition, not by the tenant: a tenant of 16,000 files over 64 partitions
 * (250 per partition) is scanned by a scan verticle in a child JVM limited to a 48 MiB heap; a deep
 * scan there hashes files too large to hold in that heap.
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

        JsonObject result = scanInChild(shared, tenant, "full");
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

    /** The size of each large file: with the whole object held, a deep scan's 48 MiB heap could not hash it. */
    static final int LARGE = 32 * 1024 * 1024;

    @Test
    @DisplayName("A deep scan in a 48 MiB heap hashes files of 32 MiB as they stream, and finds the corrupted one")
    void deepScanHashesFilesLargerThanItCouldHold() throws Exception {
        TrisyncConfig shared = TestStack.config();
        String tenant = TestStack.unique("large");
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, TestStack.nodeConfig(Map.of()));
        List<String> keys = new ArrayList<>();
        try {
            stores.init().await();
            Instant now = Instant.now();
            float[] v = new float[384];
            v[0] = 1;
            for (String id : List.of("large-intact", "large-corrupt")) {
                byte[] bytes = new byte[LARGE];
                new java.util.Random(id.hashCode()).nextBytes(bytes);
                String sha = StoreKeys.sha256Hex(bytes);
                // The corrupted file's bytes changed after its record was written: one byte flipped.
                if (id.endsWith("corrupt")) {
                    bytes[LARGE / 2] ^= 1;
                }
                int p = StoreKeys.partition(id, 64);
                String key = StoreKeys.blobKey(tenant, p, id);
                keys.add(key);
                stores.blobs()
                        .putBytes(key, Buffer.buffer(bytes), "application/octet-stream", Map.of("sha256", sha))
                        .await();
                stores.metadata()
                        .upsertAll(List.of(new FileRecord(
                                id,
                                tenant,
                                id + ".bin",
                                "application/octet-stream",
                                LARGE,
                                sha,
                                FileRecord.Status.ACTIVE,
                                1,
                                p,
                                new FileRecord.Embedding("m", 384, 1, sha),
                                now,
                                now,
                                null)))
                        .await();
                stores.vectors()
                        .upsert(List.of(ChunkPoint.of(tenant, id, 0, p, sha, "m", v)))
                        .await();
            }

            JsonObject result = scanInChild(shared, tenant, "deep");
            JsonObject summary = result.getJsonObject("summary");
            assertThat(summary.getLong("total_files")).isEqualTo(2);
            assertThat(summary.getLong("synced")).as(summary.encode()).isEqualTo(1);
            assertThat(summary.getJsonObject("issues_by_type").getLong("CHECKSUM_MISMATCH"))
                    .as(summary.encode())
                    .isEqualTo(1);
            System.out.printf(
                    "Deep scan of two %d MiB files in a %s child JVM: peak heap %.1f MiB%n",
                    LARGE >> 20, HEAP, result.getLong("peakHeapBytes") / 1048576.0);
        } finally {
            for (String key : keys) {
                stores.blobs().delete(key).await();
            }
            stores.close().await();
            vertx.close().await();
        }
    }

    /** Scans {@code tenant} in mode {@code mode} in a child JVM with a {@link #HEAP} heap; its result line. */
    private static JsonObject scanInChild(TrisyncConfig shared, String tenant, String mode) throws Exception {
        return SmallHeapChild.run(HEAP, shared, 300, ScanInSmallHeap.class.getName(), tenant, "1", mode);
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
                String id = Fixtures.fileId(String.format("m-%06d", i));
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
            String id = Fixtures.fileId(String.format("m-%06d", i));
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
