package io.trisync.bus;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request consumers with one failure policy: each reply fails with the code {@link Failure#status}
 * gives (a {@link Failure} its own, a forwarded bus failure its code); anything else, a {@link
 * ClassCastException} or an {@link IllegalArgumentException} included, is a bug: 500, logged with
 * its stack trace and answered without it (a malformed value is refused as a {@link
 * Failure.BadRequest} by the message's {@code fromJson}).
 *
 * <p>A request that names the member that sent it ({@link #FROM}) is answered only while that
 * member can still take the answer: a node that stopped (or is stopping) while another worked for it,
 * such as a scan's or re-index's coordinator whose partitions run elsewhere, would otherwise be
 * answered after it left, which Vert.x logs as a failed connection to it ({@code VertxException: Not
 * a member of the cluster}) with nobody left to read the answer.
 */
public final class Requests {

    private static final Logger LOG = LoggerFactory.getLogger(Requests.class);

    /** The header a request carries with the member id of the node that sent it ({@link ClusterBus}). */
    public static final String FROM = "trisync-from";

    private Requests() {}

    /** Registers {@code handler} for JSON requests on {@code address}; every request is answered. */
    public static MessageConsumer<JsonObject> consume(
            EventBus bus, String address, Function<JsonObject, Future<JsonObject>> handler) {
        return consume(bus, address, handler, from -> true);
    }

    /**
     * Registers {@code handler} for JSON requests on {@code address}; a request whose sender ({@link
     * #FROM}) {@code answerable} no longer accepts when its answer is ready is not answered (one line
     * at INFO says so).
     */
    public static MessageConsumer<JsonObject> consume(
            EventBus bus,
            String address,
            Function<JsonObject, Future<JsonObject>> handler,
            Predicate<String> answerable) {
        return bus.<JsonObject>consumer(address, message -> reply(message, handler, answerable));
    }

    private static void reply(
            Message<JsonObject> message,
            Function<JsonObject, Future<JsonObject>> handler,
            Predicate<String> answerable) {
        Future<JsonObject> result;
        try {
            result = handler.apply(message.body() == null ? new JsonObject() : message.body());
        } catch (RuntimeException e) {
            // A bug must still answer (500, logged below) rather than leave the caller to time out.
            result = Future.failedFuture(e);
        }
        result.onComplete(done -> {
            // The code first: a bug is logged whether or not its answer can still be sent.
            int code = done.failed() ? code(message.address(), done.cause()) : 0;
            String from = message.headers().get(FROM);
            if (from != null && !answerable.test(from)) {
                LOG.info(
                        "Answer to a request to {} not sent: member {} that sent it has left the cluster or is stopping ({})",
                        message.address(),
                        from,
                        done.succeeded()
                                ? "it succeeded"
                                : "it failed " + code + ": " + done.cause().getMessage());
                return;
            }
            if (done.succeeded()) {
                message.reply(done.result());
            } else {
                message.fail(code, String.valueOf(done.cause().getMessage()));
            }
        });
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
