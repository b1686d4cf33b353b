package io.trisync.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.events.EventPublisher.Draft;
import io.trisync.metrics.Metrics;
import io.trisync.store.Event;
import io.trisync.store.EventStore;
import io.trisync.store.MongoEventStore;
import io.trisync.store.MongoMetadataStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event log's group append: concurrent publishes of a tenant share appends, keep their order and
 * each get their own events; an append that fails fails every publish it carried and leaves none of
 * their events in the log or on the bus. Against the embedded MongoDB, through a TCP proxy that can
 * cut it.
 */
@Timeout(240)
class EventPublisherIT {

    private RestartableStores stores;
    private Vertx vertx;
    private MongoClient client;
    private CountingStore log;
    private EventPublisher publisher;

    @BeforeEach
    void start() throws Exception {
        stores = RestartableStores.proxied();
        vertx = Vertx.vertx();
        client = MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(stores.nodeConfig(Map.of()).mongo()));
        log = new CountingStore(new MongoEventStore(client, 10_000));
        log.init().await();
        publisher = new EventPublisher(vertx.eventBus(), log);
    }

    @AfterEach
    void stop() throws Exception {
        client.close().await();
        vertx.close().await();
        stores.close();
    }

    @Test
    @DisplayName(
            "64 publishes of a tenant made in one turn share one append, in order, each answered with its own events")
    void concurrentPublishesShareAppends() {
        String tenant = TestStack.unique("grouped");
        List<Event> onBus = published(tenant);
        int publishes = 64;
        List<Future<List<Event>>> answers = onContext(() -> {
            List<Future<List<Event>>> all = new ArrayList<>();
            for (int i = 0; i < publishes; i++) {
                all.add(publisher.publishAll(tenant, List.of(draft("first", i), draft("second", i))));
            }
            return all;
        });
        Future.all(answers).await();

        for (int i = 0; i < publishes; i++) {
            List<Event> mine = answers.get(i).result();
            assertThat(mine).extracting(e -> e.data().getInteger("i")).containsExactly(i, i);
            assertThat(mine).extracting(Event::type).containsExactly("first", "second");
            assertThat(mine.get(1).seq())
                    .as("a publish's events are consecutive")
                    .isEqualTo(mine.get(0).seq() + 1);
        }
        List<Event> logged = log.since(tenant, 0, 1000).await();
        assertThat(logged)
                .extracting(Event::seq)
                .containsExactlyElementsOf(
                        LongStream.rangeClosed(1, 2L * publishes).boxed().toList());
        assertThat(logged)
                .as("the log holds the publishes in the order they were made")
                .extracting(e -> e.data().getInteger("i"))
                .isSorted();
        assertThat(log.increments.get())
                .as("publishes made in one event-loop turn share one counter increment")
                .isEqualTo(1);
        assertThat(log.inserts).as("and one insert").hasSize(1);
        Await.until("every event on the bus", 5000, () -> onBus.size() == 2 * publishes);
        assertThat(onBus).extracting(Event::seq).isSorted();
    }

    @Test
    @DisplayName("Events numbered and held are logged in number order: a later publish waits for the held ones;"
            + " a skipped reservation is a gap, a logged one shares the insert")
    void reservationsKeepTheLogInOrder() {
        String tenant = TestStack.unique("reserved");
        List<Event> onBus = published(tenant);
        List<Future<?>> made = onContext(() -> List.of(
                publisher.reserve(tenant, List.of(draft("skipped", 1), draft("skipped", 2))),
                publisher.publishAll(tenant, List.of(draft("ready", 3))),
                publisher.reserve(tenant, List.of(draft("held", 4)))));
        EventPublisher.Reservation skipped =
                (EventPublisher.Reservation) made.get(0).await();
        @SuppressWarnings("unchecked")
        Future<List<Event>> ready = (Future<List<Event>>) made.get(1);
        EventPublisher.Reservation held =
                (EventPublisher.Reservation) made.get(2).await();
        // Both reservations are told their numbers after the increment's answer was handled: a
        // publisher that logged out of order would have sent the ready publish's insert by now.
        assertThat(skipped.events()).extracting(Event::seq).containsExactly(1L, 2L);
        assertThat(held.events()).extracting(Event::seq).containsExactly(4L);
        assertThat(log.increments.get()).as("one increment numbered all three").isEqualTo(1);
        assertThat(log.inserts)
                .as("nothing logged while the first numbers are held")
                .isEmpty();
        assertThat(ready.isComplete()).isFalse();

        Future<List<Event>> heldLogged = onContext(held::log);
        assertThat(log.inserts).as("still held by the first reservation").isEmpty();
        onContext(() -> {
            skipped.skip();
            return null;
        });
        assertThat(ready.await()).extracting(Event::seq).containsExactly(3L);
        assertThat(heldLogged.await()).extracting(Event::seq).containsExactly(4L);
        assertThat(log.inserts).as("the ready and the held one in one insert").containsExactly(List.of(3L, 4L));
        assertThat(log.since(tenant, 0, 100).await()).extracting(Event::type).containsExactly("ready", "held");
        Event after = publisher.publish(tenant, "after", null, null, null).await();
        assertThat(after.seq()).isEqualTo(5);
        Await.until("the logged events on the bus", 5000, () -> onBus.size() == 3);
        assertThat(onBus).extracting(Event::seq).containsExactly(3L, 4L, 5L);
    }

    @Test
    @DisplayName("A reservation neither logged nor skipped holds the tenant's later events only until the hold"
            + " limit; logged after it, its events take new numbers")
    void heldReservationIsGivenUp() {
        EventPublisher limited = new EventPublisher(vertx.eventBus(), log, Metrics.none(), 300);
        String tenant = TestStack.unique("expired");
        EventPublisher.Reservation held = onContext(() -> limited.reserve(tenant, List.of(draft("late", 1))))
                .await();
        long numbered = System.nanoTime();
        Future<List<Event>> after = onContext(() -> limited.publishAll(tenant, List.of(draft("after", 2))));
        assertThat(after.await()).extracting(Event::seq).containsExactly(2L);
        assertThat((System.nanoTime() - numbered) / 1_000_000)
                .as("ms the later publish waited for the held reservation")
                .isGreaterThanOrEqualTo(100);
        assertThat(onContext(held::log).await()).extracting(Event::seq).containsExactly(3L);
        assertThat(log.since(tenant, 0, 10).await())
                .as("seq 1 given up, a gap")
                .extracting(Event::type)
                .containsExactly("after", "late");
    }

    @Test
    @DisplayName(
            "An append that fails fails every publish it carried; none of their events is logged or published; the next succeeds")
    void failedAppendFailsItsGroup() {
        String tenant = TestStack.unique("cut");
        List<Event> onBus = published(tenant);
        Event before = publisher.publish(tenant, "before", null, null, null).await();

        stores.proxy("mongodb").cut();
        List<Future<List<Event>>> answers = onContext(() -> {
            List<Future<List<Event>>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(publisher.publishAll(tenant, List.of(draft("lost", i))));
            }
            return all;
        });
        Future.join(answers).otherwiseEmpty().await();
        assertThat(answers).allMatch(Future::failed);
        stores.proxy("mongodb").restore();

        Event after = publisher.publish(tenant, "after", null, null, null).await();
        assertThat(log.since(tenant, 0, 1000).await())
                .as("the log: the events before and after the outage, none of the failed publishes")
                .extracting(Event::type)
                .containsExactly("before", "after");
        assertThat(after.seq()).isGreaterThan(before.seq());
        Await.until("both events on the bus", 5000, () -> onBus.size() == 2);
        assertThat(onBus).extracting(Event::type).containsExactly("before", "after");
    }

    @Test
    @DisplayName("A publish whose listener throws does not hold up the tenant's later publishes")
    void throwingListenerDoesNotStopTheLog() {
        String tenant = TestStack.unique("thrown");
        List<Future<Event>> later = onContext(() -> {
            publisher.publish(tenant, "first", null, null, null).onSuccess(e -> {
                throw new IllegalStateException("a listener that fails");
            });
            return List.of(
                    publisher.publish(tenant, "second", null, null, null),
                    publisher.publish(tenant, "third", null, null, null));
        });
        Future.all(later).await();
        assertThat(publisher.publish(tenant, "after", null, null, null).await().seq())
                .isEqualTo(4);
    }

    /** What the bus delivers on {@code tenant}'s address from now on. */
    private List<Event> published(String tenant) {
        List<Event> onBus = new CopyOnWriteArrayList<>();
        vertx.eventBus()
                .<JsonObject>consumer(EventAddresses.tenant(tenant), m -> onBus.add(Event.fromJson(m.body())))
                .completion()
                .await();
        return onBus;
    }

    private static Draft draft(String type, int i) {
        return new Draft(type, "f-" + i, null, new JsonObject().put("i", i));
    }

    /** Runs {@code work} on one event-loop context (as a verticle publishes) and returns what it made. */
    private <T> T onContext(Supplier<T> work) {
        Promise<T> made = Promise.promise();
        vertx.runOnContext(v -> made.complete(work.get()));
        return made.future().await();
    }

    /** The real event log, counting the counter increments and noting the inserts made to it. */
    private static final class CountingStore implements EventStore {

        private final EventStore log;
        final AtomicInteger increments = new AtomicInteger();
        /** The seqs of each insert made, in the order made. */
        final List<List<Long>> inserts = new CopyOnWriteArrayList<>();

        CountingStore(EventStore log) {
            this.log = log;
        }

        @Override
        public Future<Void> init() {
            return log.init();
        }

        @Override
        public Future<Event> append(String tenantId, Event event) {
            return log.append(tenantId, event);
        }

        @Override
        public Future<Long> reserve(String tenantId, int count) {
            increments.incrementAndGet();
            return log.reserve(tenantId, count);
        }

        @Override
        public Future<Void> insert(String tenantId, List<Event> numbered) {
            inserts.add(numbered.stream().map(Event::seq).toList());
            return log.insert(tenantId, numbered);
        }

        @Override
        public Future<List<Event>> recent(String tenantId, int limit) {
            return log.recent(tenantId, limit);
        }

        @Override
        public Future<List<Event>> since(String tenantId, long afterSeq, int limit) {
            return log.since(tenantId, afterSeq, limit);
        }

        @Override
        public Future<Long> lastSeq(String tenantId) {
            return log.lastSeq(tenantId);
        }

        @Override
        public Future<Long> oldestSeq(String tenantId) {
            return log.oldestSeq(tenantId);
        }

        @Override
        public Future<Long> removeBefore(Instant before) {
            return log.removeBefore(before);
        }

        @Override
        public Future<Boolean> logged(String tenantId, String opId) {
            return log.logged(tenantId, opId);
        }

        @Override
        public Future<List<Event>> ofFile(String tenantId, String fileId, int limit) {
            return log.ofFile(tenantId, fileId, limit);
        }
    }
}
