package io.trisync.bench;

import io.trisync.scan.FileReport;
import io.trisync.scan.Listings;
import io.trisync.scan.Reconciler;
import io.trisync.testsupport.HeapSampler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The reconciliation engine alone, run by {@link ScanBench} in a child JVM with a 256 MiB heap:
 * synthetic sorted listings of {@code total} entries (metadata records, objects and points, one of
 * each per file), fed partition by partition as scans feed it, with 1% of files damaged.
 */
public final class EngineBenchMain {

    private EngineBenchMain() {}

    /** {@code f-} and the number zero-padded to 10 digits, without String.format's cost. */
    private static String id(long n) {
        String digits = Long.toString(n);
        return "f-" + "0000000000".substring(digits.length()) + digits;
    }

    public static void main(String[] args) {
        long total = Long.parseLong(args[0]);
        int perPartition = Integer.parseInt(args[1]);
        HeapSampler heap = HeapSampler.start(10);
        Reconciler engine = new Reconciler();
        String sha = "a".repeat(64);
        long entries = 0;
        long issues = 0;
        long file = 0;
        long start = System.nanoTime();
        long engineNanos = 0;
        while (entries < total) {
            List<Listings.Meta> metas = new ArrayList<>(perPartition);
            List<Listings.Blob> blobs = new ArrayList<>(perPartition);
            List<Listings.Point> points = new ArrayList<>(perPartition);
            for (int i = 0; i < perPartition && entries < total; i++, file++) {
                String id = id(file);
                metas.add(new Listings.Meta(id, id, false, 256, sha, 1, sha, "m"));
                entries++;
                if (file % 100 != 1 && entries < total) {
                    blobs.add(new Listings.Blob(id, 256, null));
                    entries++;
                }
                if (file % 100 != 2 && entries < total) {
                    points.add(new Listings.Point(id, 0, sha, "m"));
                    entries++;
                }
            }
            long t0 = System.nanoTime();
            List<FileReport> reports = engine.reconcile(new Listings.Partition(metas, blobs, points));
            engineNanos += System.nanoTime() - t0;
            for (FileReport r : reports) {
                issues += r.issues().size();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double engineSeconds = engineNanos / 1e9;
        System.out.printf(
                Locale.ROOT,
                "ENGINE entries=%d files=%d issues=%d total=%.2fs (listings built + reconciled) engine=%.2fs entriesPerSecond(engine)=%.0f entriesPerSecond(with listing construction)=%.0f peakHeapMiB=%.1f maxHeapMiB=%.0f%n",
                entries,
                file,
                issues,
                seconds,
                engineSeconds,
                entries / engineSeconds,
                entries / seconds,
                heap.peakBytes() / 1048576.0,
                Runtime.getRuntime().maxMemory() / 1048576.0);
    }
}
