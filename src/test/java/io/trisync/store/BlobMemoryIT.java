package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.testsupport.SmallHeapChild;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An object read whole is held once: a child JVM whose heap holds the object but not two copies of
 * it reads, hashes and indexes it as a re-index, a repair and an upload's completion do. With the
 * SDK's growing buffer, its copy into a Vert.x buffer and the indexer's copy, it ran out of heap.
 */
@Timeout(120)
class BlobMemoryIT {

    /** The object's size: room for it once in {@link #HEAP}, not for it twice. */
    static final int SIZE = 32 * 1024 * 1024;

    static final String HEAP = "-Xmx96m";

    @Test
    @DisplayName("A 32 MiB object is read, hashed and indexed in a 96 MiB heap, its bytes held once")
    void readsAnObjectLargerThanHalfTheHeap() throws Exception {
        TrisyncConfig shared = TestStack.config();
        String key = TestStack.unique("memory") + "/0/large";
        byte[] bytes = new byte[SIZE];
        new Random(7).nextBytes(bytes);
        String sha256 = StoreKeys.sha256Hex(bytes);
        Vertx vertx = Vertx.vertx();
        Stores stores = Stores.create(vertx, TestStack.nodeConfig(Map.of()));
        try {
            stores.init().await();
            stores.blobs()
                    .putBytes(key, Buffer.buffer(bytes), "application/octet-stream", Map.of(BlobInfo.SHA256, sha256))
                    .await();
            bytes = null;

            JsonObject result = readInChild(shared, key);
            assertThat(result.getString("sha256")).isEqualTo(sha256);
            assertThat(result.getInteger("size")).isEqualTo(SIZE);
            assertThat(result.getInteger("points")).isZero();
            System.out.printf(
                    "Read of a %d MiB object in a %s child JVM: peak heap %.1f MiB of %.1f MiB%n",
                    SIZE >> 20,
                    HEAP,
                    result.getLong("peakHeapBytes") / 1048576.0,
                    result.getLong("maxHeapBytes") / 1048576.0);
        } finally {
            stores.blobs().delete(key).await();
            stores.close().await();
            vertx.close().await();
        }
    }

    /** Reads {@code key} in a child JVM with a {@link #HEAP} heap; its result line. */
    private static JsonObject readInChild(TrisyncConfig shared, String key) throws Exception {
        return SmallHeapChild.run(HEAP, shared, 60, BlobReadInSmallHeap.class.getName(), key);
    }
}
