package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.trisync.failure.Failure;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.function.Supplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node that stops closes its store clients while work may still be in flight (a scan partition, a
 * re-index batch). What that work then asks of a store must fail as the store being unavailable, not
 * as a bug: a bug is logged with its stack trace and answered 500, at every shutdown.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class ClosedStoresIT {

    @Test
    @DisplayName("After the clients are closed, every store answers unavailable (the node is stopping), not a bug")
    void closedClientsAnswerUnavailable(Vertx vertx) {
        Stores stores = Stores.create(vertx, TestStack.config());
        stores.init().await();
        String tenant = TestStack.unique("t");
        stores.close().await();

        assertUnavailable(() -> stores.metadata().get(TestStack.unique("f")), "mongodb");
        assertUnavailable(() -> stores.issues().open(tenant, 0), "mongodb");
        assertUnavailable(() -> stores.blobs().head(StoreKeys.blobKey(tenant, 0, "f")), "s3");
        assertUnavailable(() -> stores.vectors().count(tenant, "f"), "qdrant");
    }

    private static void assertUnavailable(Supplier<Future<?>> call, String store) {
        Throwable error = catchThrowable(() -> call.get().await());
        assertThat(error).as(store).isInstanceOf(Failure.Unavailable.class);
        assertThat(error.getMessage()).as(store).contains(store);
    }
}
