package io.trisync.testsupport;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.store.IngestOperation;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * A node (as {@code io.trisync.Main} starts it) whose ingest operations of one kind on files of one
 * name stop for good after one step: {@code TEST_PAUSE_AT=KIND:STEP:name}. On reaching it, it prints
 * {@code PAUSED <opId> AT <step>} and holds the operation, so a test can kill the process with SIGKILL
 * at that point. Other operations (among them the recovery of an earlier round's) run as usual.
 */
public final class PausingNodeMain {

    /** The line printed when the operation stops. */
    public static final String PAUSED = "PAUSED ";

    private PausingNodeMain() {}

    public static void main(String[] args) throws Exception {
        String[] at = System.getenv("TEST_PAUSE_AT").split(":", 3);
        IngestOperation.Kind kind = IngestOperation.Kind.valueOf(at[0]);
        IngestOperation.Step step = IngestOperation.Step.valueOf(at[1]);
        String name = at[2];
        Node.start(ConfigLoader.load(), false, (op, done) -> {
                    if (op.kind() == kind && done == step && name.equals(op.name())) {
                        System.out.println(PAUSED + op.id() + " AT " + step);
                        System.out.flush();
                        return Promise.<Void>promise().future();
                    }
                    return Future.succeededFuture();
                })
                .toCompletionStage()
                .toCompletableFuture()
                .get();
    }
}
