package io.trisync.concurrent;

import io.vertx.core.Context;
import java.util.concurrent.RejectedExecutionException;

/** Work deferred to the end of an event-loop turn, so that what the same turn adds joins it. */
public final class Later {

    private Later() {}

    /**
     * Runs {@code work} on {@code context} after the tasks queued there before it (the rest of this
     * turn, and the continuations one completion scheduled there). False, having run nothing, when
     * there is no context or it takes no more tasks (its Vert.x instance closed): the caller runs
     * {@code work} itself then, so that nothing it waits for is left unsent.
     */
    public static boolean inTurn(Context context, Runnable work) {
        if (context == null) {
            return false;
        }
        try {
            context.runOnContext(v -> work.run());
            return true;
        } catch (RejectedExecutionException closed) {
            return false;
        }
    }
}
