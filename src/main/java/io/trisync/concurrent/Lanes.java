package io.trisync.concurrent;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Asynchronous work over a list with bounded concurrency: {@code parallel} lanes each take the next
 * item when their last one is done, so at most {@code parallel} calls are in flight and a slow item
 * holds up only its lane. The first failure fails the whole; lanes take no new item after it.
 * {@link #inOrder} is the one-lane case: one item after the other.
 */
public final class Lanes {

    private Lanes() {}

    /** Runs {@code work} on each item, one after the other; stops at the first failure. */
    public static <T> Future<Void> inOrder(List<T> items, Function<T, Future<?>> work) {
        return forEach(items, 1, work);
    }

    /** Runs {@code work} on each item, at most {@code parallel} at once. */
    public static <T> Future<Void> forEach(List<T> items, int parallel, Function<T, Future<?>> work) {
        Deque<T> queue = new ArrayDeque<>(items);
        boolean[] failed = {false};
        List<Future<Void>> lanes = new ArrayList<>();
        for (int i = 0; i < Math.min(Math.max(1, parallel), items.size()); i++) {
            Promise<Void> lane = Promise.promise();
            drain(queue, work, lane, failed);
            lanes.add(lane.future());
        }
        return Future.all(lanes).mapEmpty();
    }

    /** {@code 0, 1, …, n - 1}: the partitions of a tenant, the indexes of a list. */
    public static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    /**
     * Runs the lane's items until one is still in flight (its completion resumes the lane) or none is
     * left. Work that completes at once (a skipped item, a cached answer) is taken in this loop, not
     * by recursion, so a long list of such items cannot overflow the stack.
     */
    private static <T> void drain(Deque<T> queue, Function<T, Future<?>> work, Promise<Void> lane, boolean[] failed) {
        while (true) {
            T next = failed[0] ? null : queue.poll();
            if (next == null) {
                lane.complete();
                return;
            }
            Future<?> result;
            try {
                result = work.apply(next);
            } catch (RuntimeException e) {
                result = Future.failedFuture(e);
            }
            if (!result.isComplete()) {
                result.onComplete(done -> {
                    if (done.succeeded()) {
                        drain(queue, work, lane, failed);
                    } else {
                        failed[0] = true;
                        lane.fail(done.cause());
                    }
                });
                return;
            }
            if (result.failed()) {
                failed[0] = true;
                lane.fail(result.cause());
                return;
            }
        }
    }
}
