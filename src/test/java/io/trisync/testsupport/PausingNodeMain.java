package io.trisync.testsupport;

import io.trisync.Node;
import io.trisync.concurrent.MemoryBudget;
import io.trisync.config.ConfigLoader;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.IngestOperation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Arrays;
import java.util.List;

/**
 * A node (as {@code io.trisync.Main} starts it, clustered with {@code --cluster}) whose ingest
 * operations of one kind on files of one name stop for good after one step: {@code
 * TEST_PAUSE_AT=KIND:STEP:name}, several such separated by commas. On reaching it, it prints {@code
 * PAUSED <opId> AT <step>} and holds the operation, so a test can kill the process with SIGKILL at that
 * point. Other operations (among them the recovery of an earlier round's) run as usual. With {@code
 * TEST_PAUSE_AT=PROMISED}, every completion that outlives its answer's deadline stops instead right
 * after its 202 {@code completing} is recorded on its operation and before that answer is sent
 * ({@link IngestHooks#promised}): {@code PAUSED <opId> AT PROMISED}. With {@code
 * TEST_PAUSE_AT=MEMORY}, the process's memory budget ({@link MemoryBudget#HEAP}) is held whole from
 * before the node starts, so the first work that waits for its share stops there for good (a record
 * restore after its checks and before it reads the object and inserts the record; a re-embed before it
 * reads the object): {@code PAUSED memory AT MEMORY}, printed once something waits.
 */
public final class PausingNodeMain {

    /** The line printed when the operation stops. */
    public static final String PAUSED = "PAUSED ";

    /** {@code TEST_PAUSE_AT} that stops completions between their promise and its answer. */
    public static final String PROMISED = "PROMISED";

    /** {@code TEST_PAUSE_AT} that stops the first work waiting for the memory budget. */
    public static final String MEMORY = "MEMORY";

    private PausingNodeMain() {}

    public static void main(String[] args) throws Exception {
        String pauseAt = System.getenv("TEST_PAUSE_AT");
        boolean memory = MEMORY.equals(pauseAt);
        if (memory) {
            holdMemory();
        }
        Node.start(ConfigLoader.load(), List.of(args).contains("--cluster"), memory ? IngestHooks.NONE : hooks(pauseAt))
                .toCompletionStage()
                .toCompletableFuture()
                .get();
    }

    private static IngestHooks hooks(String pauseAt) {
        if (PROMISED.equals(pauseAt)) {
            return new IngestHooks() {
                @Override
                public Future<Void> after(IngestOperation op, IngestOperation.Step step) {
                    return Future.succeededFuture();
                }

                @Override
                public Future<Void> promised(String opId) {
                    return paused(opId, PROMISED);
                }
            };
        }
        List<IngestHooks> each =
                Arrays.stream(pauseAt.split(",")).map(PausingNodeMain::at).toList();
        return (op, done) -> {
            for (IngestHooks one : each) {
                Future<Void> after = one.after(op, done);
                if (!after.succeeded()) {
                    return after;
                }
            }
            return Future.succeededFuture();
        };
    }

    /** The hook of one {@code KIND:STEP:name}: stops such an operation after that step. */
    private static IngestHooks at(String spec) {
        String[] at = spec.split(":", 3);
        IngestOperation.Kind kind = IngestOperation.Kind.valueOf(at[0]);
        IngestOperation.Step step = IngestOperation.Step.valueOf(at[1]);
        String name = at[2];
        return (op, done) -> kind == op.kind() && done == step && name.equals(op.name())
                ? paused(op.id(), step.name())
                : Future.succeededFuture();
    }

    /**
     * Takes the whole memory budget for good, and says so once a piece of work waits for its share. A
     * share larger than the budget is granted when nothing else holds any, so this one is granted at
     * once; the watcher polls the queue's length, since the budget tells nobody of a new waiter.
     */
    private static void holdMemory() {
        MemoryBudget.HEAP.holding(
                Runtime.getRuntime().maxMemory(), () -> Promise.<Void>promise().future());
        Thread watcher = new Thread(
                () -> {
                    try {
                        while (MemoryBudget.HEAP.waiting() == 0) {
                            Thread.sleep(10);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    paused("memory", MEMORY);
                },
                "memory-pause-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Says that operation {@code opId} stopped at {@code step}; a future that never completes. */
    private static Future<Void> paused(String opId, String step) {
        System.out.println(PAUSED + opId + " AT " + step);
        System.out.flush();
        return Promise.<Void>promise().future();
    }
}
