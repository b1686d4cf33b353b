package io.trisync.bench;

import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A tenant written straight into the three stores (bypassing ingest, for speed) as ingest would
 * leave it, with a known set of injected faults: per 100 files, one lost blob, one lost vector, one
 * wrong size in the record, one lost record (an orphan blob and orphan points) and one point made by
 * another model.
 */
final class SeededTenant {

    static final String SHA = "a".repeat(64);
    static final String MODEL = "all-minilm-l6-v2-q";

    final String tenant;
    final int files;
    final int partitions;
    /** "TYPE:fileId" of every injected fault. */
    final Set<String> faults = new HashSet<>();

    SeededTenant(String tenant, int files, int partitions) {
        this.tenant = tenant;
        this.files = files;
        this.partitions = partitions;
    }

    /** File {@code i}'s id, of trisync's form (a key of another form is a foreign object to the scan). */
    static String id(int i) {
        return new UUID(0x5eed00000000_4000L, 0x8000_0000_0000_0000L | i).toString();
    }

    SeededTenant seed(Stores stores) {
        Buffer body = Buffer.buffer(new byte[256]);
        String[] etags = new String[files];
        StoreFloorsBench.lanes(64, files, i -> {
                    if (i % 100 == 1) {
                        faults.add("MISSING_BLOB:" + id(i));
                        return Future.succeededFuture();
                    }
                    return stores.blobs()
                            .putBytes(key(i), body, "text/plain", Map.of("sha256", SHA))
                            .map(BlobInfo::etag)
                            .onSuccess(etag -> etags[i] = etag);
                })
                .await();
        Instant now = Instant.now();
        float[] v = new float[384];
        v[0] = 1;
        for (int from = 0; from < files; from += 1000) {
            List<FileRecord> records = new ArrayList<>();
            List<ChunkPoint> points = new ArrayList<>();
            for (int i = from; i < Math.min(files, from + 1000); i++) {
                String id = id(i);
                int p = StoreKeys.partition(id, partitions);
                if (i % 100 == 4) {
                    faults.add("ORPHAN_BLOB:" + id);
                    faults.add("ORPHAN_VECTORS:" + id);
                } else {
                    long size = i % 100 == 3 ? 257 : 256;
                    if (i % 100 == 3) {
                        faults.add("SIZE_MISMATCH:" + id);
                    }
                    records.add(new FileRecord(
                            id,
                            tenant,
                            id + ".txt",
                            "text/plain",
                            size,
                            SHA,
                            FileRecord.Status.ACTIVE,
                            1,
                            p,
                            new FileRecord.Embedding(MODEL, 384, 1, SHA),
                            now,
                            now,
                            null,
                            etags[i]));
                }
                if (i % 100 == 2) {
                    faults.add("MISSING_VECTORS:" + id);
                } else {
                    String model = i % 100 == 5 ? "older-model" : MODEL;
                    if (i % 100 == 5) {
                        faults.add("STALE_VECTORS:" + id);
                    }
                    points.add(ChunkPoint.of(tenant, id, 0, p, SHA, model, v));
                }
            }
            stores.metadata().upsertAll(records).await();
            stores.vectors().upsert(points).await();
        }
        return this;
    }

    String key(int i) {
        return StoreKeys.blobKey(tenant, StoreKeys.partition(id(i), partitions), id(i));
    }
}
