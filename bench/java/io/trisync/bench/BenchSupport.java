package io.trisync.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Locale;

/** Timing, latency percentiles and peak-heap measurement for benchmarks. */
final class BenchSupport {

    private BenchSupport() {}

    /** Clears the JVM's peak-usage counters so the next {@link #peakHeapMb()} covers one phase. */
    static void resetPeakHeap() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    /** Sum of the heap pools' peak usage since the last reset, in MiB. */
    static long peakHeapMb() {
        long bytes = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                bytes += pool.getPeakUsage().getUsed();
            }
        }
        return bytes / (1024 * 1024);
    }

    /**
     * A web client that can hold {@code concurrency} requests in flight to one server. Vert.x's default
     * pool keeps 5 connections per server and queues the rest: a bench at concurrency 16 on the default
     * client measured 5 requests at a time.
     */
    static WebClient webClient(Vertx vertx, int concurrency) {
        return WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(concurrency));
    }

    static double perSecond(long count, long nanos) {
        return count / (nanos / 1e9);
    }

    /** The p-th percentile (0..100) of latencies in nanoseconds, in milliseconds. */
    static double percentileMs(long[] nanos, double p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    static String row(String store, String operation, String mode, long n, double rate, String unit, long heapMb) {
        return String.format(
                Locale.ROOT,
                "| %-8s | %-34s | %-10s | %,9d | %,12.0f %-8s | %,6d MiB |",
                store,
                operation,
                mode,
                n,
                rate,
                unit,
                heapMb);
    }
}
