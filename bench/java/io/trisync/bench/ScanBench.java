package io.trisync.bench;

import static io.trisync.bench.BenchSupport.peakHeapMb;
import static io.trisync.bench.BenchSupport.perSecond;
import static io.trisync.bench.BenchSupport.resetPeakHeap;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanInSmallHeap;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A full scan of a seeded tenant (N = 10,000 and 100,000, in-memory embedded stack) with injected
 * faults: files/s, peak heap, whether every fault was found, each store's raw listing throughput in
 * the same run and the scan's ratio to the slowest; the naive check (a HEAD and a point lookup per
 * record) at 10,000; and the engine alone on 10,000,000 entries in a 256 MiB child JVM. Prints
 * figures; asserts nothing about time.
 */
@Tag("bench")
class ScanBench {

    static final int P = 64;

    @Test
    void scan() throws Exception {
        List<String> out = new ArrayList<>();
        // "on,off": each size with the embedded MongoDB's non-unique indexes kept, then ignored (stock).
        String[] indexes = System.getProperty("bench.scan.indexes", "on").split(",");
        for (String n : System.getProperty("bench.scan.sizes", "10000,100000").split(",")) {
            for (String variant : indexes) {
                System.setProperty("trisync.mongoSecondaryIndexes", String.valueOf(!"off".equals(variant.trim())));
                out.add("secondary indexes " + variant.trim() + ":");
                List<String> rows = run(Integer.parseInt(n.trim()));
                // Printed as each size ends too: a later size that fails (memory) keeps these.
                System.out.println("\n=== Scan, N=" + n.trim() + " ===\n" + String.join("\n", rows) + "\n");
                out.addAll(rows);
            }
        }
        System.clearProperty("trisync.mongoSecondaryIndexes");
        out.add(engine(Long.getLong("bench.engine.entries", 10_000_000L)));
        String report = String.join("\n", out);
        System.out.println("\n=== Scan ===\n" + report + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/scan.md"), report + "\n");
    }

    private List<String> run(int n) throws Exception {
        List<String> rows = new ArrayList<>();
        Node node = Node.start(IngestBench.config(false), false).await();
        try {
            Stores s = node.stores();
            String tenant = "bench-" + n;
            long t0 = System.nanoTime();
            SeededTenant seeded = new SeededTenant(tenant, n, P).seed(s);
            rows.add(String.format(
                    Locale.ROOT,
                    "N=%,d: seeded in %.1f s, %,d injected faults",
                    n,
                    (System.nanoTime() - t0) / 1e9,
                    seeded.faults.size()));
            boolean floors = n <= Integer.getInteger("bench.scan.floorsUpTo", 100_000);
            // Above floorsUpTo only the child-JVM scan runs (a first scan there, with every fault new).
            if (floors && Boolean.parseBoolean(System.getProperty("bench.scan.warmup", "true"))) {
                // A first scan, not measured, so the floors and the measured scan run compiled code;
                // it also finds the faults first, so the measured scan is the periodic steady state.
                long w0 = System.nanoTime();
                fullScan(node, tenant);
                rows.add(String.format(
                        Locale.ROOT,
                        "  first (cold JVM) full scan, not measured: %.1f s = %,.0f files/s",
                        (System.nanoTime() - w0) / 1e9,
                        perSecond(n, System.nanoTime() - w0)));
            }

            if (!floors) {
                rows.add("  floors and the in-JVM scan skipped above bench.scan.floorsUpTo");
                // The first child scan records every fault; the second is the periodic steady state
                // (as the warm in-JVM scan is at the smaller sizes), each in a fresh -Xmx512m JVM.
                rows.add(childScan(node, tenant, n, seeded).replace("full scan", "first full scan"));
                rows.add(childScan(node, tenant, n, seeded).replace("full scan", "second full scan"));
                return rows;
            }
            double mongo = mongoFloor(s, tenant);
            double s3 = s3Floor(s, tenant);
            double qdrant = qdrantFloor(s, tenant);
            double slowest = Math.min(mongo, Math.min(s3, qdrant));
            rows.add(String.format(
                    Locale.ROOT,
                    "  floors, whole tenant: mongodb keyset read %,.0f docs/s; s3 listing (64 prefixes, 8 at once) %,.0f keys/s; qdrant scroll %,.0f points/s",
                    mongo,
                    s3,
                    qdrant));
            double mongoParts = partitionFloor(p -> listPartition(s, tenant, p, null));
            double qdrantParts = partitionFloor(p -> scrollPartition(s, tenant, p, null));
            double slowestParts = Math.min(mongoParts, Math.min(s3, qdrantParts));
            double together = partitionFloor(p -> Future.all(
                            listPartition(s, tenant, p, null),
                            listAll(s, StoreKeys.blobPrefix(tenant, p), null, new AtomicLong()),
                            scrollPartition(s, tenant, p, null))
                    .map(all -> all.<Long>resultAt(0)));
            rows.add(String.format(
                    Locale.ROOT,
                    "  floors, by partition (4 at once, as the scan reads them): mongodb %,.0f docs/s; qdrant %,.0f points/s; all three listings of each partition together, nothing else: %,.0f files/s",
                    mongoParts,
                    qdrantParts,
                    together));

            resetPeakHeap();
            long start = System.nanoTime();
            JsonObject report = fullScan(node, tenant);
            long elapsed = System.nanoTime() - start;
            long files = report.getJsonObject("summary").getLong("total_files");
            double rate = perSecond(files, elapsed);
            Set<String> found = new HashSet<>();
            s.issues().openFor(tenant, 10_000_000).await().forEach(d -> found.add(d.type() + ":" + d.fileId()));
            Set<String> missed = new HashSet<>(seeded.faults);
            missed.removeAll(found);
            Set<String> extra = new HashSet<>(found);
            extra.removeAll(seeded.faults);
            rows.add(String.format(
                    Locale.ROOT,
                    "  full scan: %,d files in %.1f s = %,.0f files/s (%.0f%% of the slowest whole-tenant floor, %.0f%% of the slowest by-partition floor, %.0f%% of the three listings together); peak heap %,d MiB (whole JVM, embedded servers included); faults found %,d/%,d, missed %d, false %d",
                    files,
                    elapsed / 1e9,
                    rate,
                    100 * rate / slowest,
                    100 * rate / slowestParts,
                    100 * rate / together,
                    peakHeapMb(),
                    seeded.faults.size() - missed.size(),
                    seeded.faults.size(),
                    missed.size(),
                    extra.size()));
            if (n <= 10_000 && Boolean.parseBoolean(System.getProperty("bench.scan.naive", "true"))) {
                rows.add(naive(s, tenant, 1, rate));
                rows.add(naive(s, tenant, 16, rate));
            }
            if (Boolean.parseBoolean(System.getProperty("bench.scan.child", "true"))) {
                // The first is that size's first scan (every finding new to it); a second is the
                // periodic steady state, every fault already recorded.
                for (int round = 0; round < Integer.getInteger("bench.scan.childRounds", 1); round++) {
                    rows.add(childScan(node, tenant, n, seeded));
                }
            }
        } finally {
            node.stop().await();
        }
        return rows;
    }

    private static JsonObject fullScan(Node node, String tenant) {
        return node.vertx()
                .eventBus()
                .<JsonObject>request(
                        ScanAddresses.ANALYZE,
                        new JsonObject().put("tenantId", tenant).put("mode", "full"),
                        new DeliveryOptions().setSendTimeout(3_600_000))
                .await()
                .body();
    }

    private static double mongoFloor(Stores s, String tenant) {
        long start = System.nanoTime();
        long read = 0;
        String after = null;
        do {
            Page<FileRecord> page =
                    s.metadata().list(FileQuery.tenant(tenant), after, 1000).await();
            read += page.items().size();
            after = page.next();
        } while (after != null);
        return perSecond(read, System.nanoTime() - start);
    }

    /** Reads every partition (4 at once) with {@code read}, which follows the partition's pages; items per second. */
    private static double partitionFloor(IntFunction<Future<Long>> read) {
        AtomicLong total = new AtomicLong();
        long start = System.nanoTime();
        StoreFloorsBench.lanes(4, P, p -> read.apply(p).onSuccess(total::addAndGet))
                .await();
        return perSecond(total.get(), System.nanoTime() - start);
    }

    /** Every metadata record of partition {@code p}, page after page: how many. */
    private static Future<Long> listPartition(Stores s, String tenant, int p, String after) {
        return s.metadata()
                .list(FileQuery.partition(tenant, p), after, 1000)
                .compose(page -> page.next() == null
                        ? Future.succeededFuture((long) page.items().size())
                        : listPartition(s, tenant, p, page.next())
                                .map(more -> more + page.items().size()));
    }

    private static Future<Long> scrollPartition(Stores s, String tenant, int p, String offset) {
        return s.vectors()
                .scroll(tenant, p, offset, 1000)
                .compose(page -> page.next() == null
                        ? Future.succeededFuture((long) page.items().size())
                        : scrollPartition(s, tenant, p, page.next())
                                .map(more -> more + page.items().size()));
    }

    private static double s3Floor(Stores s, String tenant) {
        AtomicLong listed = new AtomicLong();
        long start = System.nanoTime();
        StoreFloorsBench.lanes(8, P, p -> listAll(s, StoreKeys.blobPrefix(tenant, p), null, listed))
                .await();
        return perSecond(listed.get(), System.nanoTime() - start);
    }

    private static Future<Void> listAll(Stores s, String prefix, String token, AtomicLong listed) {
        return s.blobs().list(prefix, token, 1000, false).compose(page -> {
            listed.addAndGet(page.items().size());
            return page.next() == null ? Future.succeededFuture() : listAll(s, prefix, page.next(), listed);
        });
    }

    private static double qdrantFloor(Stores s, String tenant) {
        long start = System.nanoTime();
        long read = 0;
        String offset = null;
        do {
            var page = s.vectors().scroll(tenant, null, offset, 1000).await();
            read += page.items().size();
            offset = page.next();
        } while (offset != null);
        return perSecond(read, System.nanoTime() - start);
    }

    /** The naive check: for each metadata record, one HEAD on S3 and one point count on Qdrant. */
    private static String naive(Stores s, String tenant, int concurrency, double scanRate) {
        List<FileRecord> records = new ArrayList<>();
        String after = null;
        do {
            Page<FileRecord> page =
                    s.metadata().list(FileQuery.tenant(tenant), after, 1000).await();
            records.addAll(page.items());
            after = page.next();
        } while (after != null);
        AtomicLong problems = new AtomicLong();
        long start = System.nanoTime();
        StoreFloorsBench.lanes(concurrency, records.size(), i -> {
                    FileRecord r = records.get(i);
                    Future<Boolean> blob = s.blobs()
                            .head(StoreKeys.blobKey(tenant, r.partition(), r.id()))
                            .map(h -> h.size() == r.size())
                            .recover(e -> e instanceof Failure.NotFound
                                    ? Future.succeededFuture(false)
                                    : Future.failedFuture(e));
                    Future<Long> points = s.vectors().count(tenant, r.id());
                    return Future.all(blob, points).onSuccess(v -> {
                        if (!blob.result() || points.result() == 0) {
                            problems.incrementAndGet();
                        }
                    });
                })
                .await();
        double rate = perSecond(records.size(), System.nanoTime() - start);
        return String.format(
                Locale.ROOT,
                "  naive (HEAD + point count per record, concurrency %d): %,.0f files/s; the scan is %.1fx faster (and the naive way sees no orphans, stale vectors or chunk gaps; it flagged %,d records)",
                concurrency,
                rate,
                scanRate / rate,
                problems.get());
    }

    /**
     * Full scans each child JVM runs one after the other ({@code bench.scan.childScans}, default 1):
     * its later scans are the warm steady state of a scan node within {@code -Xmx512m}, comparable
     * across sizes (JVM start and first-scan compilation left out).
     */
    static final int CHILD_SCANS = Integer.getInteger("bench.scan.childScans", 1);

    /**
     * A full scan by a scan-only node in a child JVM with {@code -Xmx512m} on this JVM's stores: its
     * time and the peak heap in use in that JVM (the scan's own memory, the stores' not included).
     */
    private static String childScan(Node node, String tenant, int n, SeededTenant seeded) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder child = new ProcessBuilder(
                        java,
                        "-Xmx512m",
                        "-XX:-UsePerfData",
                        "-cp",
                        System.getProperty("java.class.path"),
                        ScanInSmallHeap.class.getName(),
                        tenant,
                        String.valueOf(CHILD_SCANS))
                .redirectErrorStream(true);
        var c = node.config();
        child.environment().put("MONGO_URI", c.mongo().uri());
        child.environment().put("S3_ENDPOINT", c.s3().endpoint());
        child.environment().put("S3_ACCESS_KEY", c.s3().accessKey());
        child.environment().put("S3_SECRET_KEY", c.s3().secretKey());
        child.environment().put("QDRANT_HOST", c.qdrant().host());
        child.environment().put("QDRANT_PORT", String.valueOf(c.qdrant().port()));
        child.environment().put("HTTP_PORT", "0");
        child.environment()
                .put("DATA_DIR", Files.createTempDirectory("trisync-scan-child").toString());
        Process p = child.start();
        JsonObject result = null;
        List<String> tail = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    result = new JsonObject(line.substring(7));
                }
                tail.add(line);
                if (tail.size() > 20) {
                    tail.remove(0);
                }
            }
        }
        int exit = p.waitFor();
        if (result == null) {
            return "  child-JVM scan (-Xmx512m) failed, exit " + exit + ": " + String.join(" | ", tail);
        }
        JsonObject summary = result.getJsonObject("summary");
        long files = summary.getLong("total_files");
        double seconds = result.getDouble("seconds");
        StringBuilder scans = new StringBuilder();
        var each = result.getJsonArray("scanSeconds");
        for (int i = 0; i < each.size(); i++) {
            scans.append(String.format(
                    Locale.ROOT,
                    "%n    scan %d of %d in that JVM, the scan alone: %.1f s = %,.0f files/s",
                    i + 1,
                    each.size(),
                    each.getDouble(i),
                    files / each.getDouble(i)));
        }
        return String.format(
                        Locale.ROOT,
                        "  full scan in a child JVM (-Xmx512m, scan and partition verticles only): %,d files in %.1f s = %,.0f files/s; peak heap in use %,d MiB of %,d; issues %,d (%,d faults injected)",
                        files,
                        seconds,
                        files / seconds,
                        result.getLong("peakHeapBytes") >> 20,
                        result.getLong("maxHeapBytes") >> 20,
                        summary.getJsonObject("issues_by_type").stream()
                                .mapToLong(e -> ((Number) e.getValue()).longValue())
                                .sum(),
                        seeded.faults.size())
                + scans;
    }

    private static String engine(long entries) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        EngineBenchMain.class.getName(),
                        String.valueOf(entries),
                        "10000")
                .redirectErrorStream(true)
                .start();
        String result = "engine: no result";
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("ENGINE ")) {
                    result = "engine alone (-Xmx256m child JVM, partitions of 10,000 files): " + line.substring(7);
                }
            }
        }
        p.waitFor();
        return result;
    }
}
