package io.trisync.bus;

import io.trisync.store.StoreException;
import io.vertx.core.eventbus.ReplyException;

/**
 * Failure codes across the event bus and their HTTP statuses. Consumers fail requests with {@code
 * message.fail(code, text)} using these codes; {@link #status} turns any failure into the status the
 * REST API answers with.
 */
public final class Failures {

    public static final int BAD_REQUEST = 400;
    public static final int FORBIDDEN = 403;
    public static final int NOT_FOUND = 404;
    public static final int CONFLICT = 409;
    public static final int PAYLOAD_TOO_LARGE = 413;
    public static final int INTERNAL = 500;
    public static final int UNAVAILABLE = 503;

    private Failures() {}

    /** The HTTP status for {@code failure}: bad input 400, typed store errors their code, bus timeouts 503. */
    public static int status(Throwable failure) {
        if (failure instanceof ReplyException reply) {
            return switch (reply.failureType()) {
                case TIMEOUT, NO_HANDLERS -> UNAVAILABLE;
                case RECIPIENT_FAILURE -> reply.failureCode() >= 400 && reply.failureCode() < 600
                        ? reply.failureCode()
                        : INTERNAL;
                default -> INTERNAL;
            };
        }
        if (failure instanceof StoreException store) {
            return store.failureCode();
        }
        if (failure instanceof IllegalArgumentException) {
            return BAD_REQUEST;
        }
        if (failure instanceof io.trisync.auth.Caller.Forbidden) {
            return FORBIDDEN;
        }
        return INTERNAL;
    }

    /** The short word an error body carries for {@code status}. */
    public static String word(int status) {
        return switch (status) {
            case BAD_REQUEST -> "bad_request";
            case 401 -> "unauthorized";
            case FORBIDDEN -> "forbidden";
            case NOT_FOUND -> "not_found";
            case 405 -> "method_not_allowed";
            case CONFLICT -> "conflict";
            case PAYLOAD_TOO_LARGE -> "payload_too_large";
            case 429 -> "too_many_requests";
            case UNAVAILABLE -> "unavailable";
            default -> status >= 500 ? "internal_error" : "error";
        };
    }
}
