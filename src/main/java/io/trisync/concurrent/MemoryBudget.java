package io.trisync.concurrent;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * How much of the heap the work holding a file's whole content may take at once. A file is embedded
 * from its bytes held in memory, beside its extracted text (as large again, twice for text outside
 * Latin-1): four 12 MB texts embedded at once exhausted a 112 MiB heap that holds one of 16 MB.
 * Work beyond the budget waits its turn, first come first served, holding nothing: its bytes stay in
 * S3 (or the spool file) until it runs. A piece larger than the whole budget runs alone, so any file
 * the node accepts is processed.
 *
 * <p>One budget for the JVM ({@link #HEAP}): the heap is shared by everything in the process, several
 * nodes of a test among them. Thread-safe; a waiter resumes on the Vert.x context it waited from.
 */
public final class MemoryBudget {

    /**
     * What holding a file's content costs, per byte of it: its bytes, its text (one byte a character
     * in Latin-1, two beyond) and the decoder's working copy.
     */
    public static final int CONTENT_FACTOR = 3;

    /** The process's budget: a third of the largest heap the JVM may use. */
    public static final MemoryBudget HEAP =
            new MemoryBudget(Runtime.getRuntime().maxMemory() / 3);

    private record Waiter(long bytes, Promise<Runnable> granted, Context context) {}

    private final long limit;
    private final Deque<Waiter> waiting = new ArrayDeque<>();
    private long used;

    public MemoryBudget(long limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("a memory budget must be positive: " + limit);
        }
        this.limit = limit;
    }

    /**
     * Runs {@code work} once {@link #CONTENT_FACTOR} × {@code contentBytes} fit in the budget (at once
     * when they do and nobody waits), and gives them back when its future ends, however it ends.
     */
    public <T> Future<T> holding(long contentBytes, Supplier<Future<T>> work) {
        long bytes = Math.max(1, contentBytes) * CONTENT_FACTOR;
        return reserve(bytes).compose(release -> {
            Future<T> running;
            try {
                running = work.get();
            } catch (Throwable e) {
                // An Error too (a stack overflow, the heap itself): the share comes back either way.
                running = Future.failedFuture(e);
            }
            return running.andThen(done -> release.run());
        });
    }

    /** The bytes held now. */
    public synchronized long used() {
        return used;
    }

    /** How many wait for their turn now. */
    public synchronized int waiting() {
        return waiting.size();
    }

    private Future<Runnable> reserve(long bytes) {
        Promise<Runnable> granted = Promise.promise();
        boolean now;
        synchronized (this) {
            now = waiting.isEmpty() && fits(bytes);
            if (now) {
                used += bytes;
            } else {
                waiting.add(new Waiter(bytes, granted, Vertx.currentContext()));
            }
        }
        if (now) {
            granted.complete(release(bytes));
        }
        return granted.future();
    }

    private boolean fits(long bytes) {
        return used == 0 || used + bytes <= limit;
    }

    /** Gives {@code bytes} back once, then lets in the waiters that fit now, in the order they came. */
    private Runnable release(long bytes) {
        boolean[] released = {false};
        return () -> {
            Deque<Waiter> admitted = new ArrayDeque<>();
            synchronized (this) {
                if (released[0]) {
                    return;
                }
                released[0] = true;
                used -= bytes;
                while (!waiting.isEmpty() && fits(waiting.peek().bytes())) {
                    Waiter next = waiting.poll();
                    used += next.bytes();
                    admitted.add(next);
                }
            }
            for (Waiter w : admitted) {
                Runnable handle = release(w.bytes());
                if (w.context() == null) {
                    w.granted().complete(handle);
                    continue;
                }
                try {
                    w.context().runOnContext(v -> w.granted().complete(handle));
                } catch (RuntimeException closed) {
                    // Its Vert.x was closed while it waited (a node stopped): its share comes back at
                    // once, and the others admitted with it are still let in.
                    handle.run();
                    w.granted().tryFail(closed);
                }
            }
        };
    }
}
