package io.trisync.store;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.trisync.failure.Failure;
import java.io.IOException;

/** The Qdrant client's gRPC failures as the service's {@link Failure}s. */
final class QdrantErrors {

    private static final String STORE = "qdrant";

    private QdrantErrors() {}

    /**
     * gRPC statuses as typed store errors. A connection that closes under a call can come back as
     * {@code UNKNOWN: channel closed} (grpc-java reports a write to a closed channel that way), with
     * an I/O error as its cause: the store is away, as with {@code UNAVAILABLE}.
     */
    static Throwable translate(Throwable error) {
        if (error instanceof StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNKNOWN && e.getCause() instanceof IOException) {
                return new Failure.Unavailable(
                        STORE, code + ": " + e.getStatus().getDescription(), e);
            }
            return switch (code) {
                case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED -> new Failure.Unavailable(
                        STORE, code + ": " + e.getStatus().getDescription(), e);
                case NOT_FOUND -> new Failure.NotFound(
                        STORE, String.valueOf(e.getStatus().getDescription()));
                case ALREADY_EXISTS -> new Failure.Conflict(
                        STORE, String.valueOf(e.getStatus().getDescription()), e);
                default -> e;
            };
        }
        return error;
    }
}
