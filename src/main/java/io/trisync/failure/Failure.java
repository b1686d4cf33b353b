package io.trisync.failure;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one failure vocabulary of the service. Every refusal and every store error is one of these
 * kinds; {@link #status(Throwable)} is the one place that turns any failure into the HTTP status the
 * REST API answers with and the code an event-bus reply fails with (the same number), and {@link
 * #of(Throwable)} turns such a code back into its kind on the caller's side.
 *
 * <p>Store adapters translate driver errors into {@link Unavailable} (retriable), {@link NotFound}
 * or {@link Conflict} and name the store, so nobody upstream parses driver messages.
 */
public abstract sealed class Failure extends RuntimeException
        permits Failure.BadRequest,
                Failure.Forbidden,
                Failure.NotFound,
                Failure.Conflict,
                Failure.StaleVersion,
                Failure.PreconditionFailed,
                Failure.Unprocessable,
                Failure.TooLarge,
                Failure.UnsupportedMediaType,
                Failure.RangeNotSatisfiable,
                Failure.Unavailable,
                Failure.ContentDamaged,
                Failure.Internal {

    public static final int BAD_REQUEST = 400;
    public static final int UNAUTHORIZED = 401;
    public static final int FORBIDDEN = 403;
    public static final int NOT_FOUND = 404;
    public static final int METHOD_NOT_ALLOWED = 405;
    public static final int CONFLICT = 409;
    public static final int PRECONDITION_FAILED = 412;
    public static final int PAYLOAD_TOO_LARGE = 413;
    public static final int UNSUPPORTED_MEDIA_TYPE = 415;
    public static final int RANGE_NOT_SATISFIABLE = 416;
    public static final int UNPROCESSABLE = 422;
    public static final int TOO_MANY_REQUESTS = 429;
    public static final int INTERNAL = 500;
    public static final int UNAVAILABLE = 503;

    /**
     * The {@code Retry-After} of every 503, and how often a store counted as down is probed: a client
     * that waits this long finds the store up if it is back.
     */
    public static final int RETRY_AFTER_SECONDS = 2;

    /** The store or capability that failed ({@code mongodb}, {@code s3}, {@code qdrant}, …); null for a refused request. */
    private final String source;

    private Failure(String source, String message, Throwable cause) {
        super(source == null ? message : source + ": " + message, cause);
        this.source = source;
    }

    /** The HTTP status and event-bus failure code of this kind. */
    public abstract int status();

    /** Which store or capability failed; null when the request itself was refused. */
    public String source() {
        return source;
    }

    /** Whether the same call may succeed later. */
    public boolean retriable() {
        return false;
    }

    /** Whether {@code error} refused the call (the same call would fail again), rather than found its store away. */
    public static boolean refused(Throwable error) {
        return !(error instanceof Failure f && f.retriable());
    }

    /** Input the caller must change (400). */
    public static final class BadRequest extends Failure {
        public BadRequest(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return BAD_REQUEST;
        }
    }

    /** The caller may not do this (403). */
    public static final class Forbidden extends Failure {
        public Forbidden(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return FORBIDDEN;
        }
    }

    /** The thing asked for does not exist, or is not the caller's (404). */
    public static final class NotFound extends Failure {
        public NotFound(String message) {
            super(null, message, null);
        }

        public NotFound(String store, String message) {
            super(store, message, null);
        }

        @Override
        public int status() {
            return NOT_FOUND;
        }
    }

    /** The request clashes with the current state: duplicate key, precondition failed, already running (409). */
    public static final class Conflict extends Failure {
        public Conflict(String message) {
            super(null, message, null);
        }

        public Conflict(String store, String message, Throwable cause) {
            super(store, message, cause);
        }

        @Override
        public int status() {
            return CONFLICT;
        }
    }

    /**
     * A write conditioned on a version ({@code If-Match}) found another one (412); the message is
     * {@code "version N is stale; the file is at version M"}, {@link #current} the version found.
     */
    public static final class StaleVersion extends Failure {
        private final long current;

        public StaleVersion(long expected, long current) {
            super(null, "version " + expected + " is stale; the file is at version " + current, null);
            this.current = current;
        }

        /** Rebuilt from its message on the other side of the bus. */
        public StaleVersion(String message) {
            super(null, message, null);
            Matcher m = Pattern.compile("at version (\\d+)").matcher(message);
            this.current = m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        public long current() {
            return current;
        }

        @Override
        public int status() {
            return PRECONDITION_FAILED;
        }
    }

    /**
     * A read conditioned on what the client holds ({@code If-Match} on a download) found other content
     * (412, RFC 9110 13.1.1).
     */
    public static final class PreconditionFailed extends Failure {
        public PreconditionFailed(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return PRECONDITION_FAILED;
        }
    }

    /**
     * A well-formed request that contradicts an earlier one the caller tied it to: an {@code
     * Idempotency-Key} sent again with another file (422, as the IETF Idempotency-Key draft answers).
     */
    public static final class Unprocessable extends Failure {
        public Unprocessable(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return UNPROCESSABLE;
        }
    }

    /** The request body is larger than allowed (413). */
    public static final class TooLarge extends Failure {
        public TooLarge(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return PAYLOAD_TOO_LARGE;
        }
    }

    /**
     * The request body is of a media type the operation does not take (415): a JSON body sent to an
     * upload, which takes {@code multipart/form-data}. The message names the type it takes.
     */
    public static final class UnsupportedMediaType extends Failure {
        public UnsupportedMediaType(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return UNSUPPORTED_MEDIA_TYPE;
        }
    }

    /**
     * A download's {@code Range} selects no byte of the content (416): it starts at or past the end.
     * {@link #size} is the content's length, which the answer's {@code Content-Range: bytes *}{@code
     * /size} tells the client.
     */
    public static final class RangeNotSatisfiable extends Failure {
        private final long size;

        public RangeNotSatisfiable(String message, long size) {
            super(null, message, null);
            this.size = size;
        }

        public long size() {
            return size;
        }

        @Override
        public int status() {
            return RANGE_NOT_SATISFIABLE;
        }
    }

    /** A store or capability cannot be reached or timed out; the call may succeed later (503). */
    public static final class Unavailable extends Failure {
        public Unavailable(String message) {
            super(null, message, null);
        }

        public Unavailable(String source, String message, Throwable cause) {
            super(source, message, cause);
        }

        @Override
        public int status() {
            return UNAVAILABLE;
        }

        @Override
        public boolean retriable() {
            return true;
        }
    }

    /** A failure another node reported with a code outside the kinds above (500 and the like). */
    /**
     * The bytes S3 gave for a file do not hash to its recorded sha256 (500): stored content damaged
     * behind trisync's back, not a fault of this request or a bug, so its message is answered as it is.
     */
    public static final class ContentDamaged extends Failure {
        public ContentDamaged(String message) {
            super(null, message, null);
        }

        @Override
        public int status() {
            return INTERNAL;
        }
    }

    public static final class Internal extends Failure {
        private final int status;

        public Internal(int status, String message) {
            super(null, message, null);
            this.status = status;
        }

        @Override
        public int status() {
            return status;
        }
    }

    /**
     * The status for any failure: a {@link Failure} its own; an event-bus reply its code (a timeout or
     * a missing handler 503); undecodable JSON 400; anything else is a bug: 500. A {@link
     * ClassCastException} or an {@link IllegalArgumentException} is one too: a client's field of the
     * wrong type or malformed value is refused where it is read ({@code http/Bodies}, the contract,
     * each message's {@code fromJson}, the query and header readers) as a {@link BadRequest} naming the
     * field, so one that gets here came from the service's own code or data (an enum or status stored
     * by another version, a batch over a store's limit, a timer of no delay).
     */
    public static int status(Throwable failure) {
        if (failure instanceof Failure typed) {
            return typed.status();
        }
        if (failure instanceof ReplyException reply) {
            return switch (reply.failureType()) {
                case TIMEOUT, NO_HANDLERS -> UNAVAILABLE;
                case RECIPIENT_FAILURE -> reply.failureCode() >= 400 && reply.failureCode() < 600
                        ? reply.failureCode()
                        : INTERNAL;
                default -> INTERNAL;
            };
        }
        if (failure instanceof DecodeException) {
            return BAD_REQUEST;
        }
        return INTERNAL;
    }

    /** {@code failure} as its kind: what an event-bus reply's code means, back on the caller's side. */
    public static Failure of(Throwable failure) {
        if (failure instanceof Failure typed) {
            return typed;
        }
        String message = String.valueOf(failure.getMessage());
        return switch (status(failure)) {
            case BAD_REQUEST -> new BadRequest(message);
            case FORBIDDEN -> new Forbidden(message);
            case NOT_FOUND -> new NotFound(message);
            case CONFLICT -> new Conflict(message);
            case PRECONDITION_FAILED -> new StaleVersion(message);
            case PAYLOAD_TOO_LARGE -> new TooLarge(message);
            case UNSUPPORTED_MEDIA_TYPE -> new UnsupportedMediaType(message);
            case UNPROCESSABLE -> new Unprocessable(message);
            case UNAVAILABLE -> new Unavailable(message);
            default -> new Internal(status(failure), message);
        };
    }

    /** Whether {@code failure} is a bus request nobody answered (no handler): the capability runs on no node. */
    public static boolean noHandlers(Throwable failure) {
        return failure instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS;
    }

    /**
     * {@code failure} of a request to {@code address}, with "no handlers" named for what it means: no
     * node of the cluster runs the role that serves the address ({@code trisync.<role>.…}; the
     * operation requests are the {@code monitor} role's, re-index requests the {@code repair} role's).
     */
    public static Throwable naming(String address, Throwable failure) {
        if (!noHandlers(failure)) {
            return failure;
        }
        String[] parts = address.split("\\.");
        String role = parts.length < 2
                ? address
                : switch (parts[1]) {
                    case "ops" -> "monitor";
                    case "reindex" -> "repair";
                    case "search" -> "ingest";
                    default -> parts[1];
                };
        return new Unavailable("no node runs the " + role + " role (NODE_ROLES) that answers " + address);
    }

    /** The short word an error body carries for {@code status}. */
    public static String word(int status) {
        return switch (status) {
            case BAD_REQUEST -> "bad_request";
            case UNAUTHORIZED -> "unauthorized";
            case FORBIDDEN -> "forbidden";
            case NOT_FOUND -> "not_found";
            case METHOD_NOT_ALLOWED -> "method_not_allowed";
            case CONFLICT -> "conflict";
            case PRECONDITION_FAILED -> "stale_version";
            case PAYLOAD_TOO_LARGE -> "payload_too_large";
            case UNSUPPORTED_MEDIA_TYPE -> "unsupported_media_type";
            case RANGE_NOT_SATISFIABLE -> "range_not_satisfiable";
            case UNPROCESSABLE -> "idempotency_key_reused";
            case TOO_MANY_REQUESTS -> "too_many_requests";
            case UNAVAILABLE -> "unavailable";
            case 408 -> "request_timeout";
            case 414 -> "uri_too_long";
            case 417 -> "expectation_failed";
            case 431 -> "request_header_fields_too_large";
            case 505 -> "http_version_not_supported";
            default -> status >= 500 ? "internal_error" : "error";
        };
    }
}
