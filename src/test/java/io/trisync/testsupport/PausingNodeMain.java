package io.trisync.testsupport;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.IngestOperation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;

/**
 * A node (as {@code io.trisync.Main} starts it, clustered with {@code --cluster}) whose ingest
 * operations of one kind on files of one name stop for good after one step: {@code
 * TEST_PAUSE_AT=KIND:STEP:name}. On reaching it, it prints {@code PAUSED <opId> AT <step>} and holds
 * the operation, so a test can kill the process with SIGKILL at that point. Other operations (among
 * them the recovery of an earlier round's) run as usual. With {@code TEST_PAUSE_AT=PROMISED}, every
 * completion that outlives its answer's deadline stops instead right after its 202 {@code completing}
 * is recorded on its operation and before that answer is sent ({@link IngestHooks#promised}): {@code
 * PAUSED <opId> AT PROMISED}.
 */
public final class PausingNodeMain {

    /** The line printed when the operation stops. */
    public static final String PAUSED = "PAUSED ";

    /** {@code TEST_PAUSE_AT} that stops completions between their promise and its answer. */
    public static final String PROMISED = "PROMISED";

    private PausingNodeMain() {}

    public static void main(String[] args) throws Exception {
        Node.start(ConfigLoader.load(), List.of(args).contains("--cluster"), hooks(System.getenv("TEST_PAUSE_AT")))
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
        String[] at = pauseAt.split(":", 3);
        IngestOperation.Kind kind = IngestOperation.Kind.valueOf(at[0]);
        IngestOperation.Step step = IngestOperation.Step.valueOf(at[1]);
        String name = at[2];
        return (op, done) -> kind == op.kind() && done == step && name.equals(op.name())
                ? paused(op.id(), step.name())
                : Future.succeededFuture();
    }

    /** Says that operation {@code opId} stopped at {@code step}; a future that never completes. */
    private static Future<Void> paused(String opId, String step) {
        System.out.println(PAUSED + opId + " AT " + step);
        System.out.flush();
        return Promise.<Void>promise().future();
    }
}
