package io.trisync.bench;

import static io.trisync.bench.BenchSupport.peakHeapMb;
import static io.trisync.bench.BenchSupport.perSecond;
import static io.trisync.bench.BenchSupport.resetPeakHeap;
import static io.trisync.bench.BenchSupport.row;

import io.trisync.concurrent.Lanes;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedStack;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The raw throughput of each embedded store through its adapter, in memory and persistent: MongoDB
 * bulk inserts and sorted reads, S3 puts and listings (one prefix, and partition prefixes in
 * parallel), Qdrant upserts, scrolls and searches. These are the floors every scan and ingest sits on.
 * Peak heap covers the whole JVM, embedded servers included. Prints figures; asserts nothing about time.
 */
@Tag("bench")
class StoreFloorsBench {

    static final int PARTITIONS = 64;
    static final int DIMS = 384;
    static final long LISTING_BUDGET_NANOS = 180_000_000_000L;

    @Test
    void storeFloors() throws Exception {
        int n = Integer.getInteger("bench.n", 100_000);
        List<String> rows = new ArrayList<>();
        rows.add(
                "| store    | operation                          | mode       |   entries |   throughput          | peak heap |");
        rows.add(
                "|----------|------------------------------------|------------|-----------|-----------------------|-----------|");
        for (boolean persist : new boolean[] {false, true}) {
            rows.addAll(run(n, persist));
        }
        String report = String.join("\n", rows);
        System.out.println("\n=== Store floors, N=" + n + " ===\n" + report + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/store-floors.md"), report + "\n");
    }

    private List<String> run(int n, boolean persist) throws Exception {
        String mode = persist ? "persistent" : "in-memory";
        Path data = Files.createTempDirectory("trisync-bench");
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", String.valueOf(persist));
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("DATA_DIR", data.toString());
        TrisyncConfig base = ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
        List<String> rows = new ArrayList<>();
        try (EmbeddedStack stack = EmbeddedStack.start(base)) {
            Vertx vertx = Vertx.vertx();
            Stores stores = Stores.create(vertx, stack.config());
            stores.init().await();
            String tenant = "bench-tenant";
            List<String> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ids.add(String.format("file-%08d", i));
            }
            rows.add(mongoInserts(stores, tenant, ids, mode));
            rows.add(mongoReads(stores, tenant, n, mode));
            rows.addAll(s3Puts(stores, tenant, ids, mode));
            rows.add(s3ListOnePrefix(stores, tenant, mode));
            rows.add(s3ListPartitions(stores, tenant, n, mode));
            rows.add(qdrantUpserts(stores, tenant, ids, mode));
            rows.add(qdrantScroll(stores, tenant, n, mode));
            rows.add(qdrantScrollPartitions(stores, tenant, n, mode));
            rows.add(qdrantSearch(stores, tenant, n, mode));
            stores.close().await();
            vertx.close().await();
        }
        return rows;
    }

    String mongoInserts(Stores stores, String tenant, List<String> ids, String mode) {
        resetPeakHeap();
        Instant now = Instant.now();
        long start = System.nanoTime();
        int batch = 1000;
        lanes(4, (ids.size() + batch - 1) / batch, b -> {
                    List<FileRecord> records = new ArrayList<>(batch);
                    for (int i = b * batch; i < Math.min(ids.size(), (b + 1) * batch); i++) {
                        String id = ids.get(i);
                        records.add(new FileRecord(
                                id,
                                tenant,
                                id + ".txt",
                                "text/plain",
                                1024,
                                "0".repeat(64),
                                FileRecord.Status.ACTIVE,
                                1,
                                StoreKeys.partition(id, PARTITIONS),
                                new FileRecord.Embedding("all-minilm-l6-v2", DIMS, 1, "0".repeat(64)),
                                now,
                                now,
                                null));
                    }
                    return stores.metadata().upsertAll(records);
                })
                .await();
        return row(
                "mongodb",
                "bulk insert (batches of 1,000)",
                mode,
                ids.size(),
                perSecond(ids.size(), System.nanoTime() - start),
                "docs/s",
                peakHeapMb());
    }

    private String mongoReads(Stores stores, String tenant, int n, String mode) {
        resetPeakHeap();
        long start = System.nanoTime();
        long read = 0;
        String after = null;
        do {
            Page<FileRecord> page = stores.metadata()
                    .list(FileQuery.tenant(tenant), after, 1000)
                    .await();
            read += page.items().size();
            after = page.next();
        } while (after != null);
        check(read == n, "mongodb read " + read + " of " + n);
        return row(
                "mongodb",
                "sorted keyset read (pages of 1,000)",
                mode,
                read,
                perSecond(read, System.nanoTime() - start),
                "docs/s",
                peakHeapMb());
    }

    List<String> s3Puts(Stores stores, String tenant, List<String> ids, String mode) {
        resetPeakHeap();
        Buffer body = Buffer.buffer(new byte[1024]);
        long[] latencies = new long[ids.size()];
        long start = System.nanoTime();
        lanes(64, ids.size(), i -> {
                    String id = ids.get(i);
                    long t0 = System.nanoTime();
                    return stores.blobs()
                            .putBytes(
                                    StoreKeys.blobKey(tenant, StoreKeys.partition(id, PARTITIONS), id),
                                    body,
                                    "text/plain",
                                    Map.of("sha256", "0".repeat(64)))
                            .onSuccess(r -> latencies[i] = System.nanoTime() - t0);
                })
                .await();
        long elapsed = System.nanoTime() - start;
        return List.of(
                row(
                        "s3",
                        "put 1 KiB (concurrency 64)",
                        mode,
                        ids.size(),
                        perSecond(ids.size(), elapsed),
                        "puts/s",
                        peakHeapMb()),
                String.format(
                        Locale.ROOT,
                        "|          |   put latency p50 %.1f ms, p99 %.1f ms |            |           |                       |           |",
                        BenchSupport.percentileMs(latencies, 50),
                        BenchSupport.percentileMs(latencies, 99)));
    }

    private String s3ListOnePrefix(Stores stores, String tenant, String mode) {
        resetPeakHeap();
        long start = System.nanoTime();
        long listed = 0;
        String token = null;
        boolean partial = false;
        do {
            Page<BlobInfo> page =
                    stores.blobs().list(tenant + "/", token, 1000, false).await();
            listed += page.items().size();
            token = page.next();
            if (token != null && System.nanoTime() - start > LISTING_BUDGET_NANOS) {
                partial = true;
                break;
            }
        } while (token != null);
        return row(
                "s3",
                "list one prefix" + (partial ? " (stopped at 180 s)" : ""),
                mode,
                listed,
                perSecond(listed, System.nanoTime() - start),
                "keys/s",
                peakHeapMb());
    }

    private String s3ListPartitions(Stores stores, String tenant, int n, String mode) {
        resetPeakHeap();
        AtomicLong listed = new AtomicLong();
        long start = System.nanoTime();
        lanes(8, PARTITIONS, p -> listPrefix(stores, StoreKeys.blobPrefix(tenant, p), null, listed))
                .await();
        check(listed.get() == n, "s3 listed " + listed.get() + " of " + n);
        return row(
                "s3",
                "list 64 partition prefixes (8 par.)",
                mode,
                listed.get(),
                perSecond(listed.get(), System.nanoTime() - start),
                "keys/s",
                peakHeapMb());
    }

    private Future<Void> listPrefix(Stores stores, String prefix, String token, AtomicLong listed) {
        return stores.blobs().list(prefix, token, 1000, false).compose(page -> {
            listed.addAndGet(page.items().size());
            return page.next() == null ? Future.succeededFuture() : listPrefix(stores, prefix, page.next(), listed);
        });
    }

    String qdrantUpserts(Stores stores, String tenant, List<String> ids, String mode) {
        resetPeakHeap();
        Random random = new Random(42);
        int batch = 500;
        long start = System.nanoTime();
        lanes(4, (ids.size() + batch - 1) / batch, b -> {
                    List<ChunkPoint> points = new ArrayList<>(batch);
                    for (int i = b * batch; i < Math.min(ids.size(), (b + 1) * batch); i++) {
                        String id = ids.get(i);
                        float[] v = new float[DIMS];
                        for (int d = 0; d < DIMS; d++) {
                            v[d] = random.nextFloat() - 0.5f;
                        }
                        points.add(ChunkPoint.of(
                                tenant,
                                id,
                                0,
                                StoreKeys.partition(id, PARTITIONS),
                                "0".repeat(64),
                                "all-minilm-l6-v2",
                                v));
                    }
                    return stores.vectors().upsert(points);
                })
                .await();
        return row(
                "qdrant",
                "upsert 384-d (batches of 500)",
                mode,
                ids.size(),
                perSecond(ids.size(), System.nanoTime() - start),
                "points/s",
                peakHeapMb());
    }

    private String qdrantScroll(Stores stores, String tenant, int n, String mode) {
        resetPeakHeap();
        long start = System.nanoTime();
        long read = 0;
        String offset = null;
        do {
            Page<ChunkPoint> page =
                    stores.vectors().scroll(tenant, null, offset, 1000).await();
            read += page.items().size();
            offset = page.next();
        } while (offset != null);
        check(read == n, "qdrant scrolled " + read + " of " + n);
        return row(
                "qdrant",
                "scroll tenant (pages of 1,000)",
                mode,
                read,
                perSecond(read, System.nanoTime() - start),
                "points/s",
                peakHeapMb());
    }

    private String qdrantScrollPartitions(Stores stores, String tenant, int n, String mode) {
        resetPeakHeap();
        AtomicLong read = new AtomicLong();
        long start = System.nanoTime();
        lanes(8, PARTITIONS, p -> scrollPartition(stores, tenant, p, null, read))
                .await();
        check(read.get() == n, "qdrant scrolled " + read.get() + " of " + n);
        return row(
                "qdrant",
                "scroll 64 partitions (8 par.)",
                mode,
                read.get(),
                perSecond(read.get(), System.nanoTime() - start),
                "points/s",
                peakHeapMb());
    }

    private Future<Void> scrollPartition(Stores stores, String tenant, int p, String offset, AtomicLong read) {
        return stores.vectors().scroll(tenant, p, offset, 1000).compose(page -> {
            read.addAndGet(page.items().size());
            return page.next() == null
                    ? Future.succeededFuture()
                    : scrollPartition(stores, tenant, p, page.next(), read);
        });
    }

    private String qdrantSearch(Stores stores, String tenant, int n, String mode) {
        resetPeakHeap();
        Random random = new Random(7);
        int queries = 50;
        long[] latencies = new long[queries];
        for (int q = 0; q < queries; q++) {
            float[] v = new float[DIMS];
            for (int d = 0; d < DIMS; d++) {
                v[d] = random.nextFloat() - 0.5f;
            }
            long t0 = System.nanoTime();
            stores.vectors().search(tenant, v, 10).await();
            latencies[q] = System.nanoTime() - t0;
        }
        return String.format(
                Locale.ROOT,
                "| qdrant   | search top-10, tenant filter       | %-10s | %,9d | p50 %6.1f ms p99 %6.1f ms | %,6d MiB |",
                mode,
                n,
                BenchSupport.percentileMs(latencies, 50),
                BenchSupport.percentileMs(latencies, 99),
                peakHeapMb());
    }

    /** Runs {@code total} operations with at most {@code concurrency} in flight; fails on the first failure. */
    /**
     * {@code op} on {@code 0 … total - 1}, {@code concurrency} at a time. (This bench once chained a
     * promise per item, lane by lane; completing 10,000 nested promises at the end overflowed the
     * event loop's stack inside a listener, so the whole never completed: the "naive check hang".)
     */
    static Future<Void> lanes(int concurrency, int total, IntFunction<Future<?>> op) {
        return Lanes.forEach(Lanes.range(total), concurrency, op::apply);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark data incomplete: " + what);
        }
    }
}
