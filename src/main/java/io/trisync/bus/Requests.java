package io.trisync.bus;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request consumers with one failure policy: each reply fails with the code {@link Failure#status}
 * gives (a {@link Failure} its own, a forwarded bus failure its code); anything else, a {@link
 * ClassCastException} or an {@link IllegalArgumentException} included, is a bug: 500, logged with
 * its stack trace and answered without it (a malformed value is refused as a {@link
 * Failure.BadRequest} by the message's {@code fromJson}).
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
        } catch (RuntimeException e) {
            // A bug must still answer (500, logged below) rather than leave the caller to time out.
            result = Future.failedFuture(e);
        }
        result.onSuccess(message::reply)
                .onFailure(error -> message.fail(code(message.address(), error), String.valueOf(error.getMessage())));
    }

    /**
     * The code a request to {@code address} that failed with {@code error} is answered with, under
     * this policy: a bug (500, not a {@link Failure}) is logged with its stack trace here.
     */
    public static int code(String address, Throwable error) {
        int code = Failure.status(error);
        if (interrupted(error)) {
            // Its worker thread was interrupted: the node is stopping (its operations were ended
            // first), not a bug; the caller may try again elsewhere.
            LOG.info("Request to {} cut short: the node is stopping", address);
            return Failure.UNAVAILABLE;
        }
        if (code >= 500 && !(error instanceof Failure)) {
            LOG.error("Request to {} failed", address, error);
        }
        return code;
    }

    private static boolean interrupted(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof InterruptedException) {
                return true;
            }
        }
        return false;
    }
}
