package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.trisync.failure.Failure;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class QdrantErrorsTest {

    @Test
    @DisplayName("A call whose connection closed under it (UNKNOWN: channel closed, an I/O cause) means Qdrant is away")
    void channelClosedIsUnavailable() {
        Throwable closed = Status.UNKNOWN
                .withDescription("channel closed")
                .withCause(new ClosedChannelException())
                .asRuntimeException();
        assertThat(QdrantErrors.translate(closed)).isInstanceOf(Failure.Unavailable.class);
        assertThat(QdrantErrors.translate(Status.UNAVAILABLE.asRuntimeException()))
                .isInstanceOf(Failure.Unavailable.class);
    }

    @Test
    @DisplayName("An UNKNOWN status without an I/O cause stays what it is; NOT_FOUND and ALREADY_EXISTS are typed")
    void otherStatuses() {
        Throwable unknown = Status.UNKNOWN.withDescription("bad vector").asRuntimeException();
        assertThat(QdrantErrors.translate(unknown)).isSameAs(unknown);
        assertThat(QdrantErrors.translate(Status.NOT_FOUND.asRuntimeException()))
                .isInstanceOf(Failure.NotFound.class);
        assertThat(QdrantErrors.translate(Status.ALREADY_EXISTS.asRuntimeException()))
                .isInstanceOf(Failure.Conflict.class);
    }
}
