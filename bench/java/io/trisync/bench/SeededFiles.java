package io.trisync.bench;

import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Fixtures;
import io.vertx.core.buffer.Buffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Files written straight into S3 and MongoDB as an upload would leave them (blob with its sha256,
 * record with the blob's ETag and the embedding it claims), for benchmarks that need many files
 * quickly; no points.
 */
final class SeededFiles {

    private SeededFiles() {}

    /** {@code files} files {@code <prefix>-0000000…} with {@code content(i)}, records naming {@code model} and {@code chunks}. */
    static List<FileRecord> write(
            Stores stores,
            String tenant,
            String prefix,
            int files,
            int partitions,
            String model,
            int chunks,
            IntFunction<byte[]> content) {
        Instant now = Instant.now();
        List<FileRecord> records = new ArrayList<>();
        StoreFloorsBench.lanes(64, files, i -> {
                    String id = Fixtures.fileId(String.format("%s-%07d", prefix, i));
                    byte[] bytes = content.apply(i);
                    String sha = Fixtures.sha256(bytes);
                    int p = StoreKeys.partition(id, partitions);
                    return stores.blobs()
                            .putBytes(
                                    StoreKeys.blobKey(tenant, p, id),
                                    Buffer.buffer(bytes),
                                    "text/plain",
                                    Map.of("sha256", sha))
                            .onSuccess(blob -> {
                                synchronized (records) {
                                    records.add(new FileRecord(
                                            id,
                                            tenant,
                                            id + ".txt",
                                            "text/plain",
                                            bytes.length,
                                            sha,
                                            FileRecord.Status.ACTIVE,
                                            1,
                                            p,
                                            new FileRecord.Embedding(model, 384, chunks, sha),
                                            now,
                                            now,
                                            null,
                                            blob.etag()));
                                }
                            });
                })
                .await();
        for (int from = 0; from < records.size(); from += 1000) {
            stores.metadata()
                    .upsertAll(records.subList(from, Math.min(records.size(), from + 1000)))
                    .await();
        }
        return records;
    }
}
