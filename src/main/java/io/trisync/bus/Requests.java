package io.trisync.bus;

import io.trisync.store.StoreException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request consumers with one failure policy: bad input ({@link IllegalArgumentException}) replies
 * 400, a {@link ReplyException} keeps its code, typed store errors their code, anything else 500
 * (logged with its stack trace, answered without it).
 */
public final class Requests {

    private static final Logger LOG = LoggerFactory.getLogger(Requests.class);

    private Requests() {}

    /** Registers {@code handler} for JSON requests on {@code address}. */
    public static MessageConsumer<JsonObject> consume(
            EventBus bus, String address, Function<JsonObject, Future<JsonObject>> handler) {
        return bus.<JsonObject>consumer(address, message -> reply(message, handler));
    }

    private static void reply(Message<JsonObject> message, Function<JsonObject, Future<JsonObject>> handler) {
        Future<JsonObject> result;
        try {
            result = handler.apply(message.body() == null ? new JsonObject() : message.body());
        } catch (IllegalArgumentException | ClassCastException e) {
            result = Future.failedFuture(new IllegalArgumentException(e.getMessage(), e));
        } catch (RuntimeException e) {
            // A bug must still answer (500, logged below) rather than leave the caller to time out.
            result = Future.failedFuture(e);
        }
        result.onSuccess(message::reply).onFailure(error -> {
            int code = error instanceof ReplyException r ? r.failureCode() : Failures.status(error);
            if (code >= 500 && !(error instanceof StoreException)) {
                LOG.error("Request to {} failed", message.address(), error);
            }
            message.fail(code, String.valueOf(error.getMessage()));
        });
    }
}
