package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(120)
class MongoMetadataStoreIT {

    private static MongoMetadataStore store;

    @BeforeAll
    static void connect(Vertx vertx) {
        // A database of its own: the records here lie in the partitions of 8 and of 64, and the shared
        // database's first node checks the records it finds against its partition count.
        store = new MongoMetadataStore(TestStack.ownDatabase(vertx, "metadata-store"));
        store.init().await();
    }

    @AfterAll
    static void close() {
        store.close().await();
    }

    static FileRecord record(String tenant, String id, int partitions) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new FileRecord(
                id,
                tenant,
                "name-" + id + ".txt",
                "text/plain",
                42,
                "ab".repeat(32),
                FileRecord.Status.ACTIVE,
                1,
                StoreKeys.partition(id, partitions),
                new FileRecord.Embedding("all-minilm-l6-v2", 384, 3, "ab".repeat(32)),
                now,
                now,
                null);
    }

    @Test
    @DisplayName("A record round-trips every field, and a second insert of its id is a Conflict")
    void roundTripAndConflict() {
        String tenant = TestStack.unique("t");
        FileRecord r = record(tenant, TestStack.unique("f"), 64);
        store.insert(r).await();
        assertThat(store.get(r.id()).await()).isEqualTo(r);
        assertThatThrownBy(() -> store.insert(r).await()).isInstanceOf(Failure.Conflict.class);
        FileRecord changed = new FileRecord(
                r.id(),
                tenant,
                r.name(),
                r.contentType(),
                43,
                r.sha256(),
                FileRecord.Status.DELETED,
                2,
                r.partition(),
                r.embedding(),
                r.createdAt(),
                r.updatedAt(),
                new SyncVerdict("synced", List.of(), null, null, null));
        store.upsert(changed).await();
        assertThat(store.get(r.id()).await()).isEqualTo(changed);
        assertThat(store.remove(r.id()).await()).isTrue();
        assertThat(store.remove(r.id()).await()).isFalse();
        assertThatThrownBy(() -> store.get(r.id()).await()).isInstanceOf(Failure.NotFound.class);
    }

    @Test
    @DisplayName("2,500 records bulk-written list back page by page, each exactly once, per tenant and partition")
    void bulkWriteAndKeysetPaging() {
        String tenant = TestStack.unique("t");
        List<FileRecord> all = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            all.add(record(tenant, String.format("f-%05d", i), 8));
        }
        for (int i = 0; i < all.size(); i += 500) {
            assertThat(store.upsertAll(all.subList(i, i + 500)).await()).isEqualTo(500);
        }
        store.upsert(record(TestStack.unique("other"), "f-x", 8)).await();
        assertThat(store.count(FileQuery.tenant(tenant)).await()).isEqualTo(2500);

        Set<String> seen = new HashSet<>();
        String after = null;
        int pages = 0;
        do {
            Page<FileRecord> page =
                    store.list(FileQuery.tenant(tenant), after, 300).await();
            for (FileRecord r : page.items()) {
                assertThat(seen.add(r.id())).isTrue();
                assertThat(r.tenantId()).isEqualTo(tenant);
            }
            after = page.next();
            pages++;
        } while (after != null);
        assertThat(seen).hasSize(2500);
        assertThat(pages).isEqualTo(9);

        int inPartitions = 0;
        for (int p = 0; p < 8; p++) {
            Page<FileRecord> page =
                    store.list(FileQuery.partition(tenant, p), null, 5000).await();
            int partition = p;
            assertThat(page.items()).allMatch(r -> r.partition() == partition);
            assertThat(page.items()).extracting(FileRecord::id).isSorted();
            inPartitions += page.items().size();
        }
        assertThat(inPartitions).isEqualTo(2500);
        assertThat(store.count(new FileQuery(tenant, null, FileRecord.Status.DELETED))
                        .await())
                .isZero();
    }

    @Test
    @DisplayName("A database that cannot be reached fails with Unavailable")
    void unreachableIsUnavailable(Vertx vertx) {
        var config =
                new TrisyncConfig.MongoConfig("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "x", "majority");
        MongoMetadataStore down = new MongoMetadataStore(vertx, config);
        try {
            assertThatThrownBy(() -> down.ping().await()).isInstanceOf(Failure.Unavailable.class);
        } finally {
            down.close().await();
        }
    }
}
