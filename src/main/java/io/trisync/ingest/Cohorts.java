package io.trisync.ingest;

import io.trisync.bus.ClusterBus;
import io.trisync.ingest.IngestMessages.CompleteUploads;
import io.trisync.ingest.IngestMessages.Completion;
import io.trisync.ingest.IngestMessages.Completions;
import io.trisync.ingest.IngestMessages.OperationRef;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.List;

/**
 * The receiving node's completions, sent in cohorts. An upload whose blob is in S3 waits while other
 * uploads of this node are still writing theirs (at most {@link #MAX_COHORT} together, at most
 * {@link #LINGER_MS} after the first of them arrived); then all that wait go to one ingest node in one
 * {@link IngestAddresses#COMPLETE_UPLOADS} request, which starts them in one turn, so their records,
 * points, commits, events and ends share round trips by design rather than by chance (concurrent
 * uploads met in group commits 1.5 to a round trip; see docs/benchmarks.md). An upload with no other
 * of this node on its way goes at once: a lone upload waits for nothing. Only small bodies count as on
 * their way, and only they wait: a large one's PUT takes long enough that waiting for it would cost
 * more than it saves, and the small ones of its cohort would wait for its embedding, so it goes alone.
 * Each upload's outcome is its own; a request that fails as a whole (its node left, it timed out)
 * fails each of its uploads with that error. One per Vert.x instance ({@link #of}).
 */
final class Cohorts implements Shareable {

    /** The most uploads one request carries. */
    static final int MAX_COHORT = 32;

    /** The longest an upload waits for the others on their way. */
    static final long LINGER_MS = 20;

    /** Bodies up to this size are awaited by the uploads ahead of them. */
    static final long AWAITED_BYTES = Receiver.IN_MEMORY_PUT_BYTES;

    private final Vertx vertx;
    /** Small uploads of this node with their blob being written. Guarded by {@code this}. */
    private int coming;

    private final List<Member> waiting = new ArrayList<>();
    private long timer = -1;
    private long sent;
    private long members;

    private record Member(OperationRef ref, Promise<JsonObject> done) {}

    private final long lingerMs;
    private final long timeoutMs;

    private Cohorts(Vertx vertx, long lingerMs, long timeoutMs) {
        this.vertx = vertx;
        this.lingerMs = lingerMs;
        this.timeoutMs = timeoutMs;
    }

    /**
     * The one instance of {@code vertx}, made on first use, whose completion requests may take
     * {@code timeoutMs} (the node's configuration, the same for every receiver of the node).
     */
    static Cohorts of(Vertx vertx, long timeoutMs) {
        return vertx.sharedData()
                .<String, Cohorts>getLocalMap("trisync.ingest.cohorts")
                .computeIfAbsent("cohorts", k -> new Cohorts(vertx, LINGER_MS, timeoutMs));
    }

    /** An instance of its own with another linger: for the tests, which must not race the timer. */
    static Cohorts lingering(Vertx vertx, long lingerMs) {
        return new Cohorts(vertx, lingerMs, 300_000);
    }

    /** An upload of {@code size} bytes starts writing its blob: it will {@link #complete} or {@link #left}. */
    synchronized void writing(long size) {
        if (size <= AWAITED_BYTES) {
            coming++;
        }
    }

    /** An upload of {@code size} bytes that was {@link #writing} will not complete (its blob was not written). */
    void left(long size) {
        List<Member> cohort;
        synchronized (this) {
            if (size <= AWAITED_BYTES) {
                coming--;
            }
            cohort = waiting.isEmpty() || coming > 0 ? null : take();
        }
        send(cohort);
    }

    /**
     * Completes the upload {@code ref} (of {@code size} bytes, announced by {@link #writing}) with the
     * others of its cohort; completes on the caller's context with its file record, or fails as its
     * own request would have.
     */
    Future<JsonObject> complete(OperationRef ref, long size) {
        ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
        Promise<JsonObject> done = context.promise();
        if (size > AWAITED_BYTES) {
            // A large file goes alone: the small ones would wait for its embedding.
            send(counted(List.of(new Member(ref, done))));
            return done.future();
        }
        List<Member> cohort = null;
        synchronized (this) {
            coming--;
            waiting.add(new Member(ref, done));
            if (waiting.size() >= MAX_COHORT || coming <= 0) {
                cohort = take();
            } else if (timer < 0) {
                timer = vertx.setTimer(lingerMs, id -> {
                    List<Member> due = null;
                    synchronized (this) {
                        if (timer == id) {
                            timer = -1;
                            due = waiting.isEmpty() ? null : take();
                        }
                    }
                    send(due);
                });
            }
        }
        send(cohort);
        return done.future();
    }

    /** How many requests were sent, carrying how many uploads: for the tests and the benchmarks. */
    synchronized long[] sent() {
        return new long[] {sent, members};
    }

    /** Takes the waiting uploads (at most {@link #MAX_COHORT}) and stops the linger; the caller holds the lock. */
    private List<Member> take() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        int n = Math.min(MAX_COHORT, waiting.size());
        List<Member> cohort = new ArrayList<>(waiting.subList(0, n));
        waiting.subList(0, n).clear();
        return counted(cohort);
    }

    /** {@code cohort}, counted as sent. */
    private synchronized List<Member> counted(List<Member> cohort) {
        sent++;
        members += cohort.size();
        return cohort;
    }

    private void send(List<Member> cohort) {
        if (cohort == null || cohort.isEmpty()) {
            return;
        }
        Future<JsonObject> sent;
        try {
            sent = ClusterBus.of(vertx)
                    .request(
                            IngestAddresses.COMPLETE_UPLOADS,
                            new CompleteUploads(cohort.stream().map(Member::ref).toList()).toJson(),
                            timeoutMs,
                            ClusterBus.Target.SPREAD,
                            false);
        } catch (RuntimeException e) {
            // Sent from a timer or another upload's turn: the failure must reach each member here.
            sent = Future.failedFuture(e);
        }
        sent.map(Completions::fromJson).onComplete(reply -> {
            for (int i = 0; i < cohort.size(); i++) {
                Promise<JsonObject> done = cohort.get(i).done();
                if (reply.failed()) {
                    done.fail(reply.cause());
                } else if (i >= reply.result().outcomes().size()) {
                    done.fail(new IllegalStateException("the cohort's reply lacks upload " + i));
                } else {
                    Completion outcome = reply.result().outcomes().get(i);
                    outcome.outcome().onComplete(done);
                }
            }
        });
    }
}
