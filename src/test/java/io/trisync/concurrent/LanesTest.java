package io.trisync.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LanesTest {

    @Test
    void neverRunsMoreThanParallelAtOnceAndRunsEveryItem() {
        List<Promise<Void>> inFlight = new ArrayList<>();
        List<Integer> started = new ArrayList<>();
        Future<Void> all = Lanes.forEach(Lanes.range(7), 3, i -> {
            started.add(i);
            Promise<Void> p = Promise.promise();
            inFlight.add(p);
            return p.future();
        });
        assertThat(started).containsExactly(0, 1, 2);
        inFlight.get(1).complete();
        assertThat(started).containsExactly(0, 1, 2, 3);
        for (int i = 0; i < 7 && !all.isComplete(); i++) {
            new ArrayList<>(inFlight).forEach(p -> p.tryComplete());
        }
        assertThat(started).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(all.succeeded()).isTrue();
    }

    @Test
    void inOrderStopsAtTheFirstFailure() {
        List<Integer> ran = new ArrayList<>();
        Future<Void> all = Lanes.inOrder(List.of(1, 2, 3), i -> {
            ran.add(i);
            return i == 2 ? Future.failedFuture("two failed") : Future.succeededFuture();
        });
        assertThat(ran).containsExactly(1, 2);
        assertThat(all.cause()).hasMessage("two failed");
    }

    @Test
    void aThrowingItemFailsTheWholeInsteadOfEscaping() {
        Future<Void> all = Lanes.forEach(List.of(1), 2, i -> {
            throw new IllegalStateException("bug");
        });
        assertThat(all.cause()).hasMessage("bug");
    }

    @Test
    @org.junit.jupiter.api.DisplayName(
            "A long list whose work completes at once (a skipped item, a cached answer) does not overflow the stack")
    void manyItemsDoneAtOnce() {
        int[] ran = {0};
        Future<Void> all = Lanes.inOrder(Lanes.range(200_000), i -> {
            ran[0]++;
            return Future.succeededFuture();
        });
        assertThat(all.succeeded()).as(String.valueOf(all.cause())).isTrue();
        assertThat(ran[0]).isEqualTo(200_000);
    }

    @Test
    void noItemsIsDoneAtOnce() {
        assertThat(Lanes.forEach(List.of(), 4, i -> Future.succeededFuture()).succeeded())
                .isTrue();
    }
}
