package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.MongoMetadataStore;
import io.trisync.store.MongoSyncOperationStore;
import io.trisync.store.Stores;
import io.trisync.store.TenantErasures.Erasure;
import io.trisync.store.TenantErasures.Pending;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a resumed erasure counts what the run it took over removed in its last, uncounted step: the
 * records that step found less those left now, where neither the cut run's records nor the resumed
 * run's own (its tracked operation) count as left. {@code EraseKillIT} kills a real run; this sets
 * the moment exactly, with the resumed run's operation already written, as it is in a real resume.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class ErasureCountsIT {

    @Test
    @DisplayName("A resumed erasure counts a cut-off step's removed records exactly, its own operation not among them")
    void cutStepCountedExactly(Vertx vertx) {
        Stores stores = Stores.create(vertx, TestStack.config());
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(TestStack.config().mongo()));
        try {
            String tenant = TestStack.unique("settle");
            String cut = TestStack.unique("op-cut");
            String resumed = TestStack.unique("op-resumed");
            String kind = MongoSyncOperationStore.OPS;
            stores.erasures().begin(tenant, cut).await();
            for (String id : new String[] {"a-" + cut, "b-" + cut, cut}) {
                mongo.insert(kind, new JsonObject().put("_id", id).put("tenantId", tenant))
                        .await();
            }
            long before = stores.erasures().countRecords(tenant, kind, cut).await();
            assertThat(before).isEqualTo(2);
            assertThat(stores.erasures()
                            .pending(tenant, cut, Pending.records(kind, before, cut))
                            .await())
                    .isTrue();
            assertThat(stores.erasures().removeRecords(tenant, kind, cut).await())
                    .isEqualTo(2);
            // Killed here, before the count. The erasure resumes as a new tracked operation of the tenant.
            mongo.insert(kind, new JsonObject().put("_id", resumed).put("tenantId", tenant))
                    .await();
            stores.erasures().begin(tenant, resumed).await();
            Erasure erasure = stores.erasures().get(tenant).await();

            new CountedRemovals(stores, erasure, resumed, 10)
                    .settle(erasure.pending())
                    .await();

            JsonObject removed = stores.erasures().get(tenant).await().removed();
            assertThat(removed.getJsonObject("records").getLong(kind))
                    .as(removed.encode())
                    .isEqualTo(2L);
        } finally {
            mongo.close().await();
            stores.close().await();
        }
    }
}
