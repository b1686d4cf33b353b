package io.trisync.store;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/** Brings the AWS SDK's and the Qdrant client's futures back onto a Vert.x context, mapping failures. */
final class VertxFutures {

    private VertxFutures() {}

    /** Completes on {@code context} with the value of {@code future}, or its failure passed through {@code mapError}. */
    static <T> Future<T> fromCompletable(
            Context context, CompletableFuture<T> future, Function<Throwable, Throwable> mapError) {
        Promise<T> promise = Promise.promise();
        future.whenComplete((value, error) -> context.runOnContext(v -> {
            if (error == null) {
                promise.complete(value);
            } else {
                promise.fail(mapError.apply(unwrap(error)));
            }
        }));
        return promise.future();
    }

    /** Completes on {@code context} with the value of {@code future}, or its failure passed through {@code mapError}. */
    static <T> Future<T> fromListenable(
            Context context, ListenableFuture<T> future, Function<Throwable, Throwable> mapError) {
        Promise<T> promise = Promise.promise();
        Futures.addCallback(
                future,
                new FutureCallback<T>() {
                    @Override
                    public void onSuccess(T value) {
                        context.runOnContext(v -> promise.complete(value));
                    }

                    @Override
                    public void onFailure(Throwable error) {
                        context.runOnContext(v -> promise.fail(mapError.apply(unwrap(error))));
                    }
                },
                MoreExecutors.directExecutor());
        return promise.future();
    }

    static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
