package io.trisync.concurrent;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Group commit, as databases do it for their log: writes submitted while an earlier batch is in
 * flight wait and go out together in the next one, a single round trip for all of them. With nothing
 * in flight a write goes out at the end of the caller's event-loop turn (at once for a caller outside
 * any Vert.x context): the writes that one earlier step released together (a batch acknowledged
 * completes all its callers in one turn, and each goes on to its next write) share one round trip
 * instead of the first going alone, as Netty's flush consolidation joins the writes of one read
 * loop. An idle system adds no wait beyond that turn; under load the batches grow by themselves (up
 * to {@code maxBatch}) to as many writes as arrived during one round trip. Each caller's future
 * completes only when the batch holding its write has been acknowledged, with its own outcome, on
 * the caller's own context (a verticle's continuation stays on its thread). A caller outside any
 * Vert.x context is completed on whatever thread the flush completes on.
 *
 * <p>{@code flush} gets the waiting items in submission order and answers one outcome per item, in
 * the same order (a bulk write that refused some of its items fails only theirs); a failed flush
 * fails every item of the batch. {@link #whole} is for writes that succeed or fail as one.
 */
public final class GroupCommit<I, O> {

    private final int maxBatch;
    private final int maxInFlight;
    private final Function<List<I>, Future<List<Future<O>>>> flush;

    private final ArrayDeque<Waiting<I, O>> queue = new ArrayDeque<>();
    private int inFlight;

    private record Waiting<I, O>(I item, Promise<O> promise) {}

    /**
     * @param maxBatch the most items one flush gets
     * @param maxInFlight how many flushes may be in flight at once (1: strict group commit)
     */
    public GroupCommit(int maxBatch, int maxInFlight, Function<List<I>, Future<List<Future<O>>>> flush) {
        if (maxBatch < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("maxBatch and maxInFlight must be at least 1");
        }
        this.maxBatch = maxBatch;
        this.maxInFlight = maxInFlight;
        this.flush = flush;
    }

    /**
     * A group commit of idempotent writes that succeed or fail as a whole ({@code flush} answers one
     * value per item). A batch of several that fails with an error {@code split} accepts (one the
     * store refused, not one of it being away) is sent again item by item, so one caller's bad write
     * fails only that caller.
     */
    public static <I, O> GroupCommit<I, O> whole(
            int maxBatch, int maxInFlight, Predicate<Throwable> split, Function<List<I>, Future<List<O>>> flush) {
        Function<List<I>, Future<List<Future<O>>>> each = items -> flush.apply(items)
                .map(outcomes -> outcomes.stream().map(Future::succeededFuture).toList());
        return new GroupCommit<>(maxBatch, maxInFlight, items -> each.apply(items)
                .recover(error -> items.size() < 2 || !split.test(error)
                        ? Future.failedFuture(error)
                        : Future.succeededFuture(items.stream()
                                .map(item -> flush.apply(List.of(item)).map(one -> one.get(0)))
                                .toList())));
    }

    /** How many batches have been sent, and holding how many items: for the metrics and the tests. */
    public synchronized long[] sent() {
        return new long[] {batches, items};
    }

    private long batches;
    private long items;

    /** Writes {@code item} with the next batch; completes with its outcome once that batch is acknowledged. */
    public Future<O> submit(I item) {
        ContextInternal context = (ContextInternal) Vertx.currentContext();
        Promise<O> promise = context == null ? Promise.promise() : context.promise();
        synchronized (this) {
            queue.add(new Waiting<>(item, promise));
            if (inFlight >= maxInFlight) {
                return promise.future();
            }
            inFlight++;
        }
        if (!Later.inTurn(context, this::sendNext)) {
            sendNext();
        }
        return promise.future();
    }

    /**
     * Sends the next batch from the queue in a flush slot already counted as in flight; frees the slot
     * when another slot's batch took every waiting write meanwhile.
     */
    private void sendNext() {
        List<Waiting<I, O>> batch;
        synchronized (this) {
            if (queue.isEmpty()) {
                inFlight--;
                return;
            }
            batch = take();
        }
        send(batch);
    }

    /** The next batch from the queue; the caller holds the lock. */
    private List<Waiting<I, O>> take() {
        List<Waiting<I, O>> batch = new ArrayList<>(Math.min(maxBatch, queue.size()));
        while (!queue.isEmpty() && batch.size() < maxBatch) {
            batch.add(queue.poll());
        }
        return batch;
    }

    private void send(List<Waiting<I, O>> batch) {
        synchronized (this) {
            batches++;
            items += batch.size();
        }
        Future<List<Future<O>>> result;
        try {
            result = flush.apply(batch.stream().map(Waiting::item).toList());
        } catch (RuntimeException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(done -> {
            settle(batch, done.succeeded() ? done.result() : null, done.cause());
            List<Waiting<I, O>> next;
            synchronized (this) {
                if (queue.isEmpty()) {
                    inFlight--;
                    return;
                }
                next = take();
            }
            send(next);
        });
    }

    private static <I, O> void settle(List<Waiting<I, O>> batch, List<Future<O>> outcomes, Throwable failure) {
        if (failure == null && (outcomes == null || outcomes.size() != batch.size())) {
            failure = new IllegalStateException("a flush of " + batch.size() + " items answered "
                    + (outcomes == null ? "nothing" : outcomes.size() + " outcomes"));
        }
        for (int i = 0; i < batch.size(); i++) {
            if (failure != null) {
                batch.get(i).promise().tryFail(failure);
            } else {
                outcomes.get(i).onComplete(batch.get(i).promise());
            }
        }
    }
}
