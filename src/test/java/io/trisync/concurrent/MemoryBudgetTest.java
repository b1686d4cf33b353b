package io.trisync.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

    /** A budget of 30 bytes: ten content bytes at the factor of 3. */
    private final MemoryBudget budget = new MemoryBudget(10L * MemoryBudget.CONTENT_FACTOR);

    private final List<String> started = new ArrayList<>();

    /** Work named {@code name} that runs until the returned promise completes. */
    private Promise<Void> hold(long contentBytes, String name) {
        Promise<Void> end = Promise.promise();
        budget.holding(contentBytes, () -> {
            started.add(name);
            return end.future();
        });
        return end;
    }

    @Test
    void workThatFitsRunsAtOnce() {
        hold(4, "a");
        hold(6, "b");
        assertThat(started).containsExactly("a", "b");
        assertThat(budget.used()).isEqualTo(30);
    }

    @Test
    void workBeyondTheBudgetWaitsForRoom() {
        Promise<Void> a = hold(6, "a");
        hold(6, "b");
        assertThat(started).containsExactly("a");
        assertThat(budget.waiting()).isEqualTo(1);
        a.complete();
        assertThat(started).containsExactly("a", "b");
        assertThat(budget.used()).isEqualTo(18);
    }

    @Test
    void waitersAreLetInInTheOrderTheyCameSoALargeOneIsNotStarved() {
        Promise<Void> a = hold(6, "a");
        Promise<Void> large = hold(8, "large");
        hold(2, "small");
        assertThat(started)
                .as("the small one fits beside a, but the large one came first")
                .containsExactly("a");
        a.complete();
        assertThat(started).containsExactly("a", "large", "small");
        large.complete();
        assertThat(budget.used()).isEqualTo(6);
    }

    @Test
    void aPieceLargerThanTheWholeBudgetRunsAlone() {
        Promise<Void> small = hold(1, "small");
        Promise<Void> huge = hold(50, "huge");
        hold(1, "after");
        assertThat(started).containsExactly("small");
        small.complete();
        assertThat(started).containsExactly("small", "huge");
        huge.complete();
        assertThat(started).containsExactly("small", "huge", "after");
    }

    @Test
    void failedOrThrowingWorkGivesItsShareBack() {
        Future<Object> failed = budget.holding(10, () -> Future.failedFuture(new IllegalStateException("no")));
        assertThat(failed.failed()).isTrue();
        Future<Object> thrown = budget.holding(10, () -> {
            throw new IllegalStateException("thrown");
        });
        assertThat(thrown.cause()).hasMessage("thrown");
        assertThat(budget.used()).isZero();
        hold(10, "next");
        assertThat(started).containsExactly("next");
    }

    @Test
    void theWorksOutcomeIsPassedOn() {
        Future<String> answer = budget.holding(3, () -> Future.succeededFuture("done"));
        assertThat(answer.result()).isEqualTo("done");
        assertThat(budget.used()).isZero();
    }

    @Test
    void anErrorThrownByTheWorkGivesItsShareBack() {
        Future<Object> failed = budget.holding(10, () -> {
            throw new StackOverflowError("deep extraction");
        });
        assertThat(failed.cause()).isInstanceOf(StackOverflowError.class);
        assertThat(budget.used()).isZero();
    }

    @Test
    void aWaiterWhoseVertxClosedGivesItsShareBackAndTheOthersAdmittedWithItRun() throws Exception {
        Vertx gone = Vertx.vertx();
        Promise<Void> first = hold(6, "first");
        // A second node of the same JVM waits its turn from its own context, a third without one.
        CompletableFuture<Future<Void>> queued = new CompletableFuture<>();
        gone.getOrCreateContext()
                .runOnContext(v -> queued.complete(budget.holding(6, () -> {
                    started.add("closed node's");
                    return Future.succeededFuture();
                })));
        Future<Void> closedNodes = queued.get(5, TimeUnit.SECONDS);
        hold(1, "live");
        assertThat(budget.waiting()).isEqualTo(2);
        gone.close().await();

        first.complete();

        assertThat(started).containsExactly("first", "live");
        assertThat(closedNodes.failed()).isTrue();
        assertThat(budget.used()).as("only the live waiter's share").isEqualTo(3);
    }
}
