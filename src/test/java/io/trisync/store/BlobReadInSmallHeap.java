package io.trisync.store;

import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.testsupport.HeapSampler;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Run by {@link BlobMemoryIT} in a child JVM with a small heap: reads the object named as argument
 * whole from the S3 store named by the environment ({@link BlobStore#read}), hashes it and has it
 * indexed as the ingest and repair paths do ({@link Buffers#view}, no text to embed: an octet-stream),
 * then prints the sha256, the size, the points made and the peak heap in use (sampled every 10 ms).
 */
public final class BlobReadInSmallHeap {

    private BlobReadInSmallHeap() {}

    public static void main(String[] args) {
        try {
            run(args[0]);
        } catch (Throwable failure) {
            // Vert.x's event loops would keep a failed child alive and its parent waiting.
            failure.printStackTrace(System.out);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(String key) {
        HeapSampler heap = HeapSampler.start(10);
        TrisyncConfig config = ConfigLoader.fromJson(TestStack.defaults(), System.getenv());
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, config);
        stores.init().await();
        BlobStore.Content content = stores.blobs().read(key).await();
        String sha256 = Buffers.sha256Hex(content.bytes());
        ContentIndexer.Indexed indexed = new ContentIndexer(new NoModel())
                .index(
                        Buffers.view(content.bytes()),
                        new ContentIndexer.Target("t", "f", 0, sha256, "application/octet-stream", "f.bin"));
        System.out.println("RESULT "
                + new JsonObject()
                        .put("sha256", sha256)
                        .put("size", content.bytes().length())
                        .put("points", indexed.points().size())
                        .put("peakHeapBytes", heap.peakBytes())
                        .put("maxHeapBytes", Runtime.getRuntime().maxMemory())
                        .encode());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    /** A model never asked: an octet-stream has no text to embed. */
    private static final class NoModel implements EmbeddingModel {
        @Override
        public String name() {
            return "none";
        }

        @Override
        public int dimension() {
            return 384;
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            throw new IllegalStateException("no text was expected");
        }
    }
}
