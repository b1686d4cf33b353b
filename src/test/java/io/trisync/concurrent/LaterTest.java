package io.trisync.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

class LaterTest {

    @Test
    void workGoesToTheContextAndTheCallerRunsItWhenThereIsNoneOrItIsClosed() {
        assertThat(Later.inTurn(null, () -> {})).as("no context").isFalse();

        Vertx vertx = Vertx.vertx();
        Context context = vertx.getOrCreateContext();
        Promise<String> ran = Promise.promise();
        assertThat(Later.inTurn(
                        context, () -> ran.complete(Thread.currentThread().getName())))
                .isTrue();
        assertThat(ran.future().await()).startsWith("vert.x-eventloop-thread");

        vertx.close().await();
        boolean[] closedRan = {false};
        assertThat(Later.inTurn(context, () -> closedRan[0] = true))
                .as("a closed Vert.x takes no task: the caller must run it")
                .isFalse();
        assertThat(closedRan[0]).isFalse();
    }
}
