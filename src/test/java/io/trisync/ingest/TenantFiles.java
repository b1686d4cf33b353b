package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Fixtures;
import java.util.List;

/** What the three stores hold of a tenant's file and its versions, read with the stores' own clients. */
final class TenantFiles {

    private TenantFiles() {}

    /** The file's record, blob and every point describe {@code bytes} and nothing else. */
    static void assertOnlyVersion(Stores stores, String tenant, String id, byte[] bytes) {
        String sha = Fixtures.sha256(bytes);
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.sha256()).isEqualTo(sha);
        assertThat(record.size()).isEqualTo(bytes.length);
        String key = StoreKeys.blobKey(tenant, record.partition(), id);
        assertThat(stores.blobs().getBytes(key).await().getBytes()).isEqualTo(bytes);
        List<ChunkPoint> points = stores.vectors().pointsOf(tenant, id).await();
        assertThat(record.embedding().chunks()).isPositive();
        assertThat(points).hasSize(record.embedding().chunks());
        assertThat(points).allSatisfy(p -> assertThat(p.contentSha256()).isEqualTo(sha));
    }

    /** The keys of the previous contents retained for file {@code id}. */
    static List<String> retained(Stores stores, String tenant, String id) {
        return stores.blobs().list(StoreKeys.fileVersionsPrefix(tenant, id), null, 100, false).await().items().stream()
                .map(b -> b.key())
                .toList();
    }

    /** The keys of contents staged for the tenant and not yet committed or removed. */
    static List<String> staged(Stores stores, String tenant) {
        return stores.blobs().list(StoreKeys.stagingPrefix(tenant), null, 100, false).await().items().stream()
                .map(b -> b.key())
                .toList();
    }
}
