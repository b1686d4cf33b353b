package io.trisync.embedding;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The node's one pool of worker threads for embedding (and the text extraction and hashing that go
 * with it), shared by the verticles that embed: one thread per core, since the work is CPU-bound.
 */
public final class EmbeddingPool {

    /** The shared pool's name: every verticle asking for it gets the same threads. */
    static final String NAME = "trisync-embedding";

    /**
     * How long one task may run before Vert.x's blocked-thread checker reports it: a large file
     * embedded by the local model takes minutes (a 10 MB text about 280 s on 2 cores), and with the
     * default of 60 s every such upload logged a stack trace every second after the first minute.
     */
    static final long MAX_TASK_MINUTES = 60;

    private EmbeddingPool() {}

    /** The pool, made on first use; close the returned handle when the verticle stops. */
    public static WorkerExecutor of(Vertx vertx) {
        return vertx.createSharedWorkerExecutor(
                NAME, Runtime.getRuntime().availableProcessors(), MAX_TASK_MINUTES, TimeUnit.MINUTES);
    }
}
