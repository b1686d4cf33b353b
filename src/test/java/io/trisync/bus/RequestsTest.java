package io.trisync.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.failure.Failure;
import io.trisync.scan.IssueType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(30)
class RequestsTest {

    @Test
    @DisplayName("A consumer that throws ClassCastException answers 500 (a bug), one that refuses a field 400")
    void classCastAnswers500(Vertx vertx, VertxTestContext ctx) {
        Requests.consume(vertx.eventBus(), "test.requests.cast", body -> {
            Object wrong = body.getValue("n");
            return Future.succeededFuture(new JsonObject().put("s", ((String) wrong).length()));
        });
        Requests.consume(vertx.eventBus(), "test.requests.refuse", body -> {
            throw new Failure.BadRequest("n must be a string");
        });
        Checkpoint answered = ctx.checkpoint(2);
        vertx.eventBus()
                .request("test.requests.cast", new JsonObject().put("n", 5))
                .onComplete(ctx.failing(cast -> ctx.verify(() -> {
                    assertThat(((ReplyException) cast).failureCode()).isEqualTo(Failure.INTERNAL);
                    answered.flag();
                })));
        vertx.eventBus()
                .request("test.requests.refuse", new JsonObject())
                .onComplete(ctx.failing(refused -> ctx.verify(() -> {
                    assertThat(((ReplyException) refused).failureCode()).isEqualTo(Failure.BAD_REQUEST);
                    answered.flag();
                })));
    }

    @Test
    @DisplayName("A consumer that throws IllegalArgumentException answers 500 (a bug), not 400")
    void illegalArgumentAnswers500(Vertx vertx, VertxTestContext ctx) {
        // As a consumer reading a stored issue type this version does not know would.
        Requests.consume(
                vertx.eventBus(),
                "test.requests.illegal",
                body -> Future.succeededFuture(new JsonObject()
                        .put("type", IssueType.valueOf(body.getString("stored")).name())));
        vertx.eventBus()
                .request("test.requests.illegal", new JsonObject().put("stored", "ISSUE_OF_A_NEWER_VERSION"))
                .onComplete(ctx.failing(bug -> ctx.verify(() -> {
                    assertThat(((ReplyException) bug).failureCode()).isEqualTo(Failure.INTERNAL);
                    ctx.completeNow();
                })));
    }

    @Test
    @DisplayName("Work cut short by an interrupted thread (a node stopping) answers 503, not a bug's 500")
    void interruptedAnswers503() {
        assertThat(Requests.code("test.requests.stop", new RuntimeException(new InterruptedException())))
                .isEqualTo(503);
        assertThat(Requests.code("test.requests.bug", new RuntimeException("bug")))
                .isEqualTo(500);
    }
}
