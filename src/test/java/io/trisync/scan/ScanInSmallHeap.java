package io.trisync.scan;

import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.Stores;
import io.trisync.testsupport.HeapSampler;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Run by {@link ScanMemoryIT} in a child JVM with a small heap: a scan verticle (and one partition
 * verticle) on the stores named
 * by the environment scans the tenant given as argument, then prints the summary and the peak heap
 * in use (sampled every 20 ms).
 */
public final class ScanInSmallHeap {

    private ScanInSmallHeap() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable failure) {
            // Vert.x's event loops would keep a failed child alive and its parent waiting.
            failure.printStackTrace(System.out);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(String[] args) {
        HeapSampler heap = HeapSampler.start(20);
        long start = System.nanoTime();
        TrisyncConfig config = ConfigLoader.fromJson(TestStack.defaults(), System.getenv());
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, config);
        stores.init().await();
        vertx.deployVerticle(new ScanVerticle(config, stores)).await();
        vertx.deployVerticle(new PartitionVerticle(config, stores, null)).await();
        JsonObject report = vertx.eventBus()
                .<JsonObject>request(
                        ScanAddresses.ANALYZE,
                        new JsonObject().put("tenantId", args[0]).put("mode", "full"),
                        new DeliveryOptions().setSendTimeout(600_000))
                .await()
                .body();
        long elapsed = System.nanoTime() - start;
        System.out.println("RESULT "
                + new JsonObject()
                        .put("summary", report.getJsonObject("summary"))
                        .put("listed", report.getJsonArray("issues").size())
                        .put("peakHeapBytes", heap.peakBytes())
                        .put("seconds", elapsed / 1e9)
                        .put("maxHeapBytes", Runtime.getRuntime().maxMemory())
                        .encode());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
