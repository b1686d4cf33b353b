package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.bus.Membership;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.store.Actor;
import io.trisync.store.Event;
import io.trisync.store.EventStore;
import io.trisync.store.Incarnation;
import io.trisync.store.IncarnationStore;
import io.trisync.store.Incarnations;
import io.trisync.store.SyncOperation;
import io.trisync.store.SyncOperationStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A stopping node's operations, on stores that answer in memory (or never). */
class LocalOperationsTest {

    private final Vertx vertx = Vertx.vertx();
    private final Map<String, Object[]> finished = new ConcurrentHashMap<>();
    private final List<Event> logged = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        vertx.close().await();
    }

    /** An interface whose methods answer as {@code answers} says by name; others are not expected. */
    @SuppressWarnings("unchecked")
    private static <T> T fake(Class<T> type, Map<String, Function<Object[], Object>> answers) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            Function<Object[], Object> answer = answers.get(method.getName());
            if (answer == null) {
                throw new UnsupportedOperationException(method.getName());
            }
            return answer.apply(args);
        });
    }

    /** Operations that run until ended; {@code answering} false: a store that never answers. */
    private SyncOperationStore operations(boolean answering) {
        return fake(
                SyncOperationStore.class,
                Map.of(
                        "heartbeat",
                        args -> answering
                                ? Future.succeededFuture(true)
                                : Promise.promise().future(),
                        "finish",
                        args -> {
                            SyncOperation op = (SyncOperation) args[0];
                            boolean first = finished.putIfAbsent(op.id(), args) == null;
                            return Future.succeededFuture(first);
                        }));
    }

    private EventPublisher events() {
        EventStore store = fake(
                EventStore.class,
                Map.of("reserve", args -> Future.succeededFuture((long) (Integer) args[1]), "insert", args -> {
                    @SuppressWarnings("unchecked")
                    List<Event> events = (List<Event>) args[1];
                    logged.addAll(events);
                    return Future.<Void>succeededFuture();
                }));
        return new EventPublisher(vertx.eventBus(), store);
    }

    private static SyncOperation running(String id, String kind) {
        Instant now = Instant.now();
        return new SyncOperation(
                id,
                "tenant-" + id,
                kind,
                SyncOperation.Status.RUNNING,
                now,
                null,
                now,
                600,
                null,
                0,
                null,
                "member",
                "n1",
                "incarnation",
                null,
                Actor.SYSTEM);
    }

    private TrackedOperation started(LocalOperations local, SyncOperationStore store, SyncOperation record) {
        TrackedOperation op = new TrackedOperation(vertx, store, events(), Metrics.none(), local, record, 60_000);
        assertThat(local.add(op)).isTrue();
        return op;
    }

    @Test
    @DisplayName("A stop ends every running operation as failed with its reason and result, publishes its end,"
            + " and then takes no new one")
    void endsEveryOperation() {
        LocalOperations local = new LocalOperations();
        SyncOperationStore store = operations(true);
        TrackedOperation reindex = started(local, store, running("a", "reindex"));
        TrackedOperation scan = started(local, store, running("b", "scan"));
        reindex.progress("updating_embeddings", 12, 40, 12);

        int ended = local.interruptAll(new Interruption("n1", "SIGTERM"), Duration.ofSeconds(5))
                .await();

        assertThat(ended).isEqualTo(2);
        assertThat(reindex.stopped()).isTrue();
        assertThat(scan.stopped()).isTrue();
        assertThat(local.size()).isZero();
        Object[] a = finished.get("a");
        assertThat(a[1]).isEqualTo(SyncOperation.Status.FAILED);
        assertThat(a[2]).isEqualTo("node n1 stopped (SIGTERM) while it ran");
        assertThat(((JsonObject) a[3]).getBoolean("resumable")).isTrue();
        assertThat(((JsonObject) finished.get("b")[3]).getBoolean("resumable")).isFalse();
        List<Event> failed =
                logged.stream().filter(e -> e.type().equals("sync.op_failed")).toList();
        assertThat(failed).extracting(Event::opId).containsExactlyInAnyOrder("a", "b");
        assertThat(failed).allSatisfy(e -> assertThat(e.data().getString("reason"))
                .isEqualTo("node n1 stopped (SIGTERM) while it ran"));
        // The code that ran them may still try to end them: refused, nothing written again.
        assertThat(reindex.complete(new JsonObject()).failed()).isTrue();

        TrackedOperation late =
                new TrackedOperation(vertx, store, events(), Metrics.none(), local, running("c", "scan"), 60_000);
        assertThat(local.add(late))
                .as("an operation registered after the stop began")
                .isFalse();
        assertThat(local.stopping().signal()).isEqualTo("SIGTERM");
    }

    @Test
    @DisplayName("A store that does not answer does not hold the stop: it completes within its bound")
    void boundedWhenTheStoreHangs() {
        LocalOperations local = new LocalOperations();
        TrackedOperation op = started(local, operations(false), running("a", "reindex"));

        long t = System.nanoTime();
        int ended = local.interruptAll(new Interruption("n1", null), Duration.ofMillis(300))
                .await();
        long millis = (System.nanoTime() - t) / 1_000_000;

        assertThat(ended).isZero();
        assertThat(op.stopped()).as("its code told to stop all the same").isTrue();
        assertThat(millis).isLessThan(3_000);
        assertThat(finished).isEmpty();
    }

    @Test
    @DisplayName("An operation that ended on its own before the stop is not ended again")
    void endedBeforeIsLeft() {
        LocalOperations local = new LocalOperations();
        SyncOperationStore store = operations(true);
        TrackedOperation op = started(local, store, running("a", "scan"));
        op.complete(new JsonObject()).await();
        finished.clear();

        assertThat(local.size()).isZero();
        assertThat(local.interruptAll(new Interruption("n1", "SIGTERM"), Duration.ofSeconds(5))
                        .await())
                .isZero();
        assertThat(finished).isEmpty();
    }

    private OperationTracker tracker(SyncOperationStore store) {
        Incarnations incarnations = new Incarnations(
                vertx,
                fake(IncarnationStore.class, Map.of()),
                Incarnation.ofThisProcess("n1", "cluster", null),
                () -> null,
                Duration.ofMinutes(1));
        return new OperationTracker(
                vertx,
                store,
                events(),
                new TimeoutPolicy(300, 10, 300, 7200),
                Duration.ofSeconds(60),
                Membership.of(vertx, "n1"),
                incarnations);
    }

    @Test
    @DisplayName("Once the node stops, a start is refused with a retriable 503 before anything is written")
    void startRefusedWhileStopping() {
        List<String> starts = new CopyOnWriteArrayList<>();
        OperationTracker tracker = tracker(fake(SyncOperationStore.class, Map.of("start", args -> {
            starts.add(((SyncOperation) args[0]).id());
            return Future.succeededFuture();
        })));
        LocalOperations.of(vertx)
                .interruptAll(new Interruption("n1", "SIGTERM"), Duration.ofSeconds(1))
                .await();

        Future<TrackedOperation> start = tracker.start("t", "scan", 10);

        assertThat(start.failed()).isTrue();
        assertThat(start.cause()).isInstanceOf(Failure.Unavailable.class).hasMessageContaining("node n1 is stopping");
        assertThat(starts).isEmpty();
    }

    @Test
    @DisplayName("A start whose record is written after the stop began is ended at once and refused")
    void startWrittenDuringTheStop() {
        Promise<Void> written = Promise.promise();
        SyncOperationStore store = fake(
                SyncOperationStore.class,
                Map.of(
                        "start",
                        args -> written.future(),
                        "heartbeat",
                        args -> Future.succeededFuture(true),
                        "finish",
                        args -> {
                            finished.put(((SyncOperation) args[0]).id(), args);
                            return Future.succeededFuture(true);
                        }));
        OperationTracker tracker = tracker(store);
        Future<TrackedOperation> start = tracker.start("t", "reindex", 10);
        LocalOperations.of(vertx)
                .interruptAll(new Interruption("n1", "SIGTERM"), Duration.ofSeconds(1))
                .await();

        written.complete();

        assertThat(start.transform(Future::succeededFuture).await().cause()).isInstanceOf(Failure.Unavailable.class);
        assertThat(finished.values()).singleElement().satisfies(args -> assertThat(args[2])
                .isEqualTo("node n1 stopped (SIGTERM) while it ran"));
        assertThat(LocalOperations.of(vertx).size()).isZero();
    }
}
