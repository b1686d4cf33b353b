package io.trisync.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.scan.IssueType;
import io.vertx.core.json.DecodeException;
import java.util.List;
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
    @DisplayName("An IllegalArgumentException is a bug (500): a client's malformed value is refused where it is read")
    void illegalArgumentIsInternal() {
        // What the service's own code and data throw: a stored enum this version does not know, a
        // number it wrote that does not parse, a batch over a store's limit.
        for (RuntimeException bug : List.of(
                catching(() -> IssueType.valueOf("ISSUE_OF_A_NEWER_VERSION")),
                catching(() -> Long.parseLong("12x")),
                new IllegalArgumentException("at most 1000 keys per batch delete, got 1001"))) {
            assertThat(Failure.status(bug)).as(bug.toString()).isEqualTo(Failure.INTERNAL);
            assertThat(Failure.of(bug)).isInstanceOf(Failure.Internal.class);
        }
    }

    @Test
    @DisplayName("A refused request keeps its 400: a BadRequest, undecodable JSON")
    void malformedInputIsBadRequest() {
        assertThat(Failure.status(new Failure.BadRequest("mode must be \"full\", \"deep\" or \"quick\"")))
                .isEqualTo(Failure.BAD_REQUEST);
        assertThat(Failure.status(new DecodeException("not JSON"))).isEqualTo(Failure.BAD_REQUEST);
    }

    private static RuntimeException catching(Runnable bug) {
        try {
            bug.run();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected it to throw");
    }
}
