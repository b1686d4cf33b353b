package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import io.trisync.testsupport.StuckOperations;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The one-running-per-tenant slot on the embedded MongoDB, read back with the client. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class MongoSyncOperationStoreIT {

    private MongoClient client;
    private MongoSyncOperationStore store;

    @BeforeEach
    void ownDatabase(Vertx vertx) {
        client = TestStack.ownDatabase(vertx, "syncops");
        store = new MongoSyncOperationStore(client);
        store.init().await();
    }

    @AfterEach
    void close() {
        client.close().await();
    }

    /** The slot a start takes before it writes its operation, taken {@code since}. */
    private void slotOnly(String tenant, String opId, Instant since) {
        client.insert(
                        MongoSyncOperationStore.SLOTS,
                        new JsonObject().put("_id", tenant).put("opId", opId).put("since", Dates.toBson(since)))
                .await();
    }

    private long slots(String tenant) {
        return client.count(MongoSyncOperationStore.SLOTS, new JsonObject().put("_id", tenant))
                .await();
    }

    @Test
    @DisplayName("A slot whose operation is not written yet reads as no running operation, and still holds the tenant")
    void startInFlight() {
        String tenant = TestStack.unique("t");
        slotOnly(tenant, "being-written", Instant.now());

        assertThat(store.running(tenant).await()).isNull();
        assertThat(slots(tenant)).as("the start in flight keeps its slot").isEqualTo(1);
        assertThatThrownBy(() ->
                        store.start(StuckOperations.scanOfGoneNode(tenant)).await())
                .isInstanceOf(Failure.Conflict.class);
        assertThat(store.history(tenant, null, 10).await())
                .as("a refused start writes nothing")
                .isEmpty();
    }

    @Test
    @DisplayName("A slot left by a start that died before writing its operation is freed once the grace is over")
    void unwrittenLeftBehind() {
        String tenant = TestStack.unique("t");
        slotOnly(
                tenant,
                "never-written",
                Instant.now().minus(SyncOperationStore.UNWRITTEN_GRACE).minusSeconds(1));

        assertThat(store.running(tenant).await()).isNull();
        assertThat(slots(tenant)).isZero();
        SyncOperation next = StuckOperations.scanOfGoneNode(tenant);
        store.start(next).await();
        assertThat(store.running(tenant).await().id()).isEqualTo(next.id());
    }

    @Test
    @DisplayName("A slot naming an operation that ended is freed by the next read")
    void endedLeftBehind() {
        String tenant = TestStack.unique("t");
        SyncOperation op = StuckOperations.scanOfGoneNode(tenant);
        store.start(op).await();
        // Its node ended it, then died before freeing the slot.
        client.updateCollection(
                        MongoSyncOperationStore.OPS,
                        new JsonObject().put(SyncOperation.ID, op.id()),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject().put(SyncOperation.STATUS, SyncOperation.Status.FAILED.wire())))
                .await();
        assertThat(slots(tenant)).isEqualTo(1);

        assertThat(store.running(tenant).await()).isNull();
        assertThat(slots(tenant)).isZero();
    }
}
