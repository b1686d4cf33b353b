package io.trisync.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;

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

    /**
     * CPU time the JIT compiler threads of this JVM have used so far, in nanoseconds (0 where {@code
     * /proc} is missing). On 2 cores HotSpot's C2 compiler is still compiling minutes into a run: it
     * took a quarter of the CPU of every ingest window measured (docs/benchmarks.md), so the benches
     * print it beside the process CPU they report. Read from {@code /proc/self/task/<tid>/stat}, whose
     * clock ticks are 10 ms here.
     */
    static long jitCpuNanos() {
        long ticks = 0;
        try (Stream<Path> threads = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) threads::iterator) {
                ticks += compilerTicks(task);
            }
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
        return ticks * 10_000_000L;
    }

    /** The user and system ticks of thread {@code task} when it is a compiler thread, else 0. */
    private static long compilerTicks(Path task) {
        try {
            if (!Files.readString(task.resolve("comm")).contains("CompilerThre")) {
                return 0;
            }
            String stat = Files.readString(task.resolve("stat"));
            // The fields after the thread's name (in parentheses): utime and stime are the 12th and 13th.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException e) {
            // The thread ended while it was read; its time is no longer anyone's.
            return 0;
        }
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
