package io.trisync.testsupport;

import java.lang.management.ManagementFactory;

/**
 * The most heap in use seen so far, sampled by a daemon thread (pool peaks cannot be summed: eden,
 * survivor and old generation peak at different moments). For child JVMs that prove a memory bound.
 */
public final class HeapSampler {

    private volatile long peak;

    /** Starts sampling every {@code millis} ms. */
    public static HeapSampler start(long millis) {
        HeapSampler sampler = new HeapSampler();
        Thread thread = new Thread(() -> {
            while (true) {
                sampler.peak = Math.max(
                        sampler.peak,
                        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
        return sampler;
    }

    public long peakBytes() {
        return peak;
    }
}
