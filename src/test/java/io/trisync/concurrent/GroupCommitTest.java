package io.trisync.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    /** A store whose bulk writes stay in flight until the test completes them. */
    private static final class Store {
        final List<List<String>> batches = new ArrayList<>();
        final List<Promise<List<Future<String>>>> inFlight = new ArrayList<>();

        Future<List<Future<String>>> write(List<String> items) {
            batches.add(items);
            Promise<List<Future<String>>> p = Promise.promise();
            inFlight.add(p);
            return p.future();
        }

        void acknowledge(int batch) {
            inFlight.get(batch)
                    .complete(batches.get(batch).stream()
                            .map(s -> Future.succeededFuture(s.toUpperCase()))
                            .toList());
        }
    }

    @Test
    void aWriteGoesOutAloneWhenNothingIsInFlightAndTheRestWaitForOneBatch() {
        Store store = new Store();
        GroupCommit<String, String> commit = new GroupCommit<>(10, 1, store::write);
        Future<String> a = commit.submit("a");
        Future<String> b = commit.submit("b");
        Future<String> c = commit.submit("c");
        assertThat(store.batches).containsExactly(List.of("a"));

        store.acknowledge(0);
        assertThat(a.result()).isEqualTo("A");
        assertThat(b.isComplete())
                .as("b waits for its own batch's acknowledgement")
                .isFalse();
        assertThat(store.batches).containsExactly(List.of("a"), List.of("b", "c"));

        store.acknowledge(1);
        assertThat(List.of(b.result(), c.result())).containsExactly("B", "C");
        assertThat(commit.sent()).containsExactly(2, 3);

        commit.submit("d");
        assertThat(store.batches)
                .as("idle again: the next write goes out at once")
                .hasSize(3);
    }

    @Test
    void batchesHoldAtMostMaxBatchItemsInSubmissionOrder() {
        Store store = new Store();
        GroupCommit<String, String> commit = new GroupCommit<>(2, 1, store::write);
        List<Future<String>> all = new ArrayList<>();
        for (String s : List.of("a", "b", "c", "d", "e")) {
            all.add(commit.submit(s));
        }
        for (int i = 0; i < 3; i++) {
            store.acknowledge(i);
        }
        assertThat(store.batches).containsExactly(List.of("a"), List.of("b", "c"), List.of("d", "e"));
        assertThat(all).allMatch(Future::succeeded);
    }

    @Test
    void anItemTheBulkWriteRefusedFailsAloneAndAFailedFlushFailsItsWholeBatchOnly() {
        List<List<String>> batches = new ArrayList<>();
        GroupCommit<String, String> commit = new GroupCommit<>(10, 1, items -> {
            batches.add(items);
            if (items.contains("down")) {
                return Future.failedFuture("store away");
            }
            return Future.succeededFuture(items.stream()
                    .map(s -> s.equals("dup") ? Future.<String>failedFuture("duplicate") : Future.succeededFuture(s))
                    .toList());
        });
        Future<String> ok = commit.submit("ok");
        Future<String> dup = commit.submit("dup");
        Future<String> down = commit.submit("down");
        assertThat(ok.succeeded()).isTrue();
        assertThat(dup.cause()).hasMessage("duplicate");
        assertThat(down.cause()).hasMessage("store away");
        assertThat(commit.submit("after").succeeded())
                .as("a failure does not stop the queue")
                .isTrue();
        assertThat(batches).hasSize(4);
    }

    @Test
    void aWholeBatchRefusedIsSentAgainItemByItemSoOnlyTheBadOneFails() {
        List<List<String>> batches = new ArrayList<>();
        Promise<List<String>> first = Promise.promise();
        GroupCommit<String, String> commit =
                GroupCommit.whole(10, 1, e -> e.getMessage().startsWith("refused"), items -> {
                    batches.add(items);
                    if (batches.size() == 1) {
                        return first.future();
                    }
                    return items.contains("bad")
                            ? Future.failedFuture("refused: bad")
                            : Future.succeededFuture(
                                    items.stream().map(String::toUpperCase).toList());
                });
        commit.submit("first");
        Future<String> x = commit.submit("x");
        Future<String> bad = commit.submit("bad");
        Future<String> y = commit.submit("y");
        first.complete(List.of("FIRST"));
        assertThat(batches.get(1)).containsExactly("x", "bad", "y");
        assertThat(x.result()).isEqualTo("X");
        assertThat(y.result()).isEqualTo("Y");
        assertThat(bad.cause()).hasMessage("refused: bad");

        Future<String> away = GroupCommit.<String, String>whole(
                        10, 1, e -> false, items -> Future.failedFuture("store away"))
                .submit("z");
        assertThat(away.cause()).hasMessage("store away");
    }

    @Test
    void writesSubmittedInOneEventLoopTurnWhileIdleShareTheFirstBatch() {
        Vertx vertx = Vertx.vertx();
        try {
            Context context = vertx.getOrCreateContext();
            Store store = new Store();
            GroupCommit<String, String> commit = new GroupCommit<>(10, 1, store::write);
            List<Future<String>> submitted = new ArrayList<>();
            Promise<Integer> sentDuringTheTurn = Promise.promise();
            context.runOnContext(v -> {
                for (String s : List.of("a", "b", "c")) {
                    submitted.add(commit.submit(s));
                }
                sentDuringTheTurn.complete(store.batches.size());
            });
            assertThat(sentDuringTheTurn.future().await())
                    .as("nothing goes out before the turn that submitted ends")
                    .isZero();
            // Tasks of one context run in order: this one runs after the batch went out.
            Promise<List<List<String>>> sent = Promise.promise();
            context.runOnContext(v -> {
                sent.complete(List.copyOf(store.batches));
                store.acknowledge(0);
            });
            assertThat(sent.future().await())
                    .as("the three writes of one turn went out in one round trip")
                    .containsExactly(List.of("a", "b", "c"));
            assertThat(Future.all(submitted).await().list()).containsExactly("A", "B", "C");
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void withTwoFlushesAllowedAWriteThatFindsItsBatchGoneFreesItsSlotAndSendsNothing() {
        Vertx vertx = Vertx.vertx();
        try {
            Context context = vertx.getOrCreateContext();
            Store store = new Store();
            GroupCommit<String, String> commit = new GroupCommit<>(10, 2, store::write);
            List<Future<String>> submitted = new ArrayList<>();
            Promise<List<List<String>>> sent = Promise.promise();
            context.runOnContext(v -> {
                for (String s : List.of("a", "b", "c")) {
                    submitted.add(commit.submit(s));
                }
                // Two flush slots were taken in this turn; the first send takes all three writes.
                context.runOnContext(w -> {
                    sent.complete(List.copyOf(store.batches));
                    store.acknowledge(0);
                });
            });
            assertThat(sent.future().await())
                    .as("one batch, and no empty one from the second slot")
                    .containsExactly(List.of("a", "b", "c"));
            assertThat(Future.all(submitted).await().list()).containsExactly("A", "B", "C");
            Promise<Integer> next = Promise.promise();
            context.runOnContext(v -> {
                commit.submit("d");
                context.runOnContext(w -> next.complete(store.batches.size()));
            });
            assertThat(next.future().await())
                    .as("both slots free again: d goes out")
                    .isEqualTo(2);
        } finally {
            vertx.close().await();
        }
    }
}
