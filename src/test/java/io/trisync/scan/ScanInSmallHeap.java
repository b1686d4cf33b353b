package io.trisync.scan;

import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.Stores;
import io.trisync.testsupport.HeapSampler;
import io.trisync.testsupport.TestStack;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Run by {@link ScanMemoryIT} in a child JVM with a small heap: a scan verticle and as many partition
 * verticles as a node deploys (one per core, or {@code HTTP_INSTANCES}) on the stores named by the environment
 * scan the tenant given as argument, then prints the summary and the peak heap
 * in use (sampled every 20 ms). An optional second argument scans that many times in this JVM (the
 * later scans run compiled code: the periodic steady state); each scan's own time is printed too. An
 * optional third names the scan's mode (full by default).
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
        // As a node deploys them: one on each of several event loops. With one, the partitions in
        // flight took turns on one thread, and a large tenant's scan ran at that thread's pace.
        vertx.deployVerticle(
                        () -> new PartitionVerticle(config, stores, null),
                        new DeploymentOptions().setInstances(config.verticleInstances()))
                .await();
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        String mode = args.length > 2 ? args[2] : "full";
        JsonArray scans = new JsonArray();
        JsonObject report = null;
        for (int round = 0; round < rounds; round++) {
            long scanStart = System.nanoTime();
            report = vertx.eventBus()
                    .<JsonObject>request(
                            ScanAddresses.ANALYZE,
                            new JsonObject().put("tenantId", args[0]).put("mode", mode),
                            new DeliveryOptions().setSendTimeout(900_000))
                    .await()
                    .body();
            scans.add((System.nanoTime() - scanStart) / 1e9);
        }
        long elapsed = System.nanoTime() - start;
        System.out.println("RESULT "
                + new JsonObject()
                        .put("summary", report.getJsonObject("summary"))
                        .put("listed", report.getJsonArray("issues").size())
                        .put("peakHeapBytes", heap.peakBytes())
                        .put("seconds", elapsed / 1e9)
                        .put("scanSeconds", scans)
                        .put("maxHeapBytes", Runtime.getRuntime().maxMemory())
                        .encode());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
