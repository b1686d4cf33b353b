package io.trisync.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReadLeaseTest {

    /** A store of blocked keys whose reads stay in flight until the test answers them. */
    private static final class Store {
        final Map<String, Boolean> blocked = new HashMap<>();
        final List<Promise<Boolean>> reads = new ArrayList<>();
        final List<String> keys = new ArrayList<>();

        Future<Boolean> read(String key) {
            keys.add(key);
            Promise<Boolean> p = Promise.promise();
            reads.add(p);
            return p.future();
        }

        void answer(int read) {
            reads.get(read).complete(blocked.getOrDefault(keys.get(read), false));
        }
    }

    private long now;
    private final Store store = new Store();
    private final ReadLease<String> lease = new ReadLease<>(Duration.ofMillis(1000), () -> now, store::read);

    @Test
    void aClearAnswerServesEveryCheckUntilALeaseAfterItsReadStarted() {
        Future<Boolean> first = lease.blocked("t");
        now += 400_000_000L;
        Future<Boolean> joined = lease.blocked("t");
        assertThat(store.reads)
                .as("a check while the read is in flight shares it")
                .hasSize(1);
        store.answer(0);
        assertThat(first.result()).isFalse();
        assertThat(joined.result()).isFalse();

        store.blocked.put("t", true);
        now += 599_000_000L;
        assertThat(lease.blocked("t").result())
                .as("999 ms after the read started the clear answer stands, though the key was blocked since")
                .isFalse();
        now += 1_000_000L;
        Future<Boolean> expired = lease.blocked("t");
        assertThat(store.reads)
                .as("a lease after the read started, it is read again")
                .hasSize(2);
        store.answer(1);
        assertThat(expired.result()).isTrue();
    }

    @Test
    void aBlockedAnswerAndAFailedReadAreNeverKept() {
        store.blocked.put("t", true);
        Future<Boolean> first = lease.blocked("t");
        store.answer(0);
        assertThat(first.result()).isTrue();
        Future<Boolean> again = lease.blocked("t");
        assertThat(store.reads).as("blocked: every check reads").hasSize(2);
        store.reads.get(1).fail("store away");
        assertThat(again.failed()).isTrue();
        store.blocked.put("t", false);
        Future<Boolean> after = lease.blocked("t");
        assertThat(store.reads).as("a failed read is not kept").hasSize(3);
        store.answer(2);
        assertThat(after.result()).isFalse();
    }

    @Test
    void forgettingAKeyMakesTheNextCheckReadAndKeysAreKeptApart() {
        Future<Boolean> a = lease.blocked("a");
        store.answer(0);
        assertThat(a.result()).isFalse();
        Future<Boolean> b = lease.blocked("b");
        assertThat(store.reads).as("another key has its own read").hasSize(2);
        store.answer(1);
        assertThat(b.result()).isFalse();

        store.blocked.put("a", true);
        lease.forget("a");
        Future<Boolean> blocked = lease.blocked("a");
        store.answer(2);
        assertThat(blocked.result())
                .as("the blocker's own process sees its block at once")
                .isTrue();
        assertThat(lease.blocked("b").result()).isFalse();
        assertThat(store.reads).hasSize(3);
    }

    @Test
    void aClearAnswerThatArrivesALeaseAfterItsReadStartedIsReadAgainAndTwiceFailsTheCheck() {
        Future<Boolean> slow = lease.blocked("t");
        now += 1_000_000_000L;
        store.answer(0);
        assertThat(slow.isComplete())
                .as("stale: read again rather than trusted")
                .isFalse();
        assertThat(store.reads).hasSize(2);
        store.answer(1);
        assertThat(slow.result())
                .as("the second read answered within its lease")
                .isFalse();

        Future<Boolean> slower = lease.blocked("u");
        now += 1_000_000_000L;
        store.answer(2);
        now += 1_000_000_000L;
        store.answer(3);
        assertThat(slower.cause()).isInstanceOf(ReadLease.TooSlow.class);
    }

    @Test
    void callersOnTwoContextsSharingOneReadAreEachAnsweredOnTheirOwn() {
        Vertx vertx = Vertx.vertx();
        try {
            Context a = vertx.getOrCreateContext();
            Context b = vertx.getOrCreateContext();
            Promise<Boolean> read = Promise.promise();
            ReadLease<String> shared = new ReadLease<>(Duration.ofSeconds(60), System::nanoTime, key -> read.future());
            List<Promise<Boolean>> answeredOnOwn = List.of(Promise.promise(), Promise.promise());
            Promise<Void> asked = Promise.promise();
            a.runOnContext(v ->
                    shared.blocked("t").onComplete(r -> answeredOnOwn.get(0).complete(Vertx.currentContext() == a)));
            b.runOnContext(v -> {
                shared.blocked("t").onComplete(r -> answeredOnOwn.get(1).complete(Vertx.currentContext() == b));
                asked.complete();
            });
            asked.future().await();
            read.complete(false);
            assertThat(answeredOnOwn.get(0).future().await()).isTrue();
            assertThat(answeredOnOwn.get(1).future().await()).isTrue();
        } finally {
            vertx.close().await();
        }
    }
}
