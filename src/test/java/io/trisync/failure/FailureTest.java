package io.trisync.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.DecodeException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FailureTest {

    @Test
    @DisplayName("A ClassCastException is a bug (500): a client's field of the wrong type is refused where it is read")
    void classCastIsInternal() {
        assertThat(Failure.status(
                        new ClassCastException("class java.lang.Integer cannot be cast to class java.lang.String")))
                .isEqualTo(Failure.INTERNAL);
        assertThat(Failure.of(new ClassCastException("x"))).isInstanceOf(Failure.Internal.class);
    }

    @Test
    @DisplayName("A refused request keeps its 400: a BadRequest, a malformed value, undecodable JSON")
    void malformedInputIsBadRequest() {
        assertThat(Failure.status(new Failure.BadRequest("mode must be \"full\", \"deep\" or \"quick\"")))
                .isEqualTo(Failure.BAD_REQUEST);
        assertThat(Failure.status(new IllegalArgumentException("malformed id"))).isEqualTo(Failure.BAD_REQUEST);
        assertThat(Failure.status(new DecodeException("not JSON"))).isEqualTo(Failure.BAD_REQUEST);
    }
}
