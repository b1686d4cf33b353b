package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(30)
class RetryTest {

    @Test
    @DisplayName("A retriable failure is retried until it succeeds")
    void retriesUntilSuccess(Vertx vertx) {
        AtomicInteger calls = new AtomicInteger();
        String result = new Retry(vertx, 4, 1, 5)
                .run(() -> calls.incrementAndGet() < 3
                        ? Future.<String>failedFuture(new Failure.Unavailable("s3", "down", null))
                        : Future.succeededFuture("ok"))
                .await();
        assertThat(result).isEqualTo("ok");
        assertThat(calls.get()).isEqualTo(3);
    }

    @Test
    @DisplayName("After the last attempt the failure is passed on; non-retriable failures are not retried")
    void givesUp(Vertx vertx) {
        AtomicInteger calls = new AtomicInteger();
        Retry retry = new Retry(vertx, 3, 1, 5);
        assertThatThrownBy(() -> retry.run(() -> {
                            calls.incrementAndGet();
                            return Future.failedFuture(new Failure.Unavailable("qdrant", "down", null));
                        })
                        .await())
                .isInstanceOf(Failure.Unavailable.class);
        assertThat(calls.get()).isEqualTo(3);
        calls.set(0);
        assertThatThrownBy(() -> retry.run(() -> {
                            calls.incrementAndGet();
                            return Future.failedFuture(new Failure.NotFound("s3", "gone"));
                        })
                        .await())
                .isInstanceOf(Failure.NotFound.class);
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test
    @DisplayName("Backoff grows exponentially, is capped, and is jittered within the cap")
    void backoff(Vertx vertx) {
        Retry retry = new Retry(vertx, 10, 100, 1000);
        for (int i = 0; i < 200; i++) {
            assertThat(retry.delayBefore(2)).isBetween(1L, 100L);
            assertThat(retry.delayBefore(3)).isBetween(1L, 200L);
            assertThat(retry.delayBefore(4)).isBetween(1L, 400L);
            assertThat(retry.delayBefore(9)).isBetween(1L, 1000L);
        }
    }
}
