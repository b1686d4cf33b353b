package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one unary call: the answer on success, a gRPC status on failure (INTERNAL for the unexpected). */
final class Calls {

    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);

    /** The work of one call, given the call's start time in nanoseconds. */
    @FunctionalInterface
    interface Body<T> {
        T run(long startedNanos);
    }

    private Calls() {}

    static <T> void answer(StreamObserver<T> out, Body<T> body) {
        T response;
        try {
            response = body.run(System.nanoTime());
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            LOG.error("Embedded Qdrant call failed", e);
            out.onError(Status.INTERNAL
                    .withDescription("Service internal error: " + e)
                    .asRuntimeException());
            return;
        }
        out.onNext(response);
        out.onCompleted();
    }

    static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }
}
