package io.trisync.http;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.trisync.failure.Failure;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.io.IOException;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler of the HTTP API: every error becomes {@code {"error": word, "message":
 * text}} with the status from {@link Failures#status}. Server errors are logged with their stack
 * trace and answered without it.
 */
public final class FailureHandler implements Handler<RoutingContext> {

    private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);

    /** The methods a path is served with, for a 405's {@code Allow} header. */
    private final Function<String, List<String>> allowedMethods;

    public FailureHandler(Function<String, List<String>> allowedMethods) {
        this.allowedMethods = allowedMethods;
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (ctx.request().version() != HttpVersion.HTTP_2
                && ctx.request().headers().get("Host") == null) {
            // Vert.x refuses such a request before any handler runs, with a failure of its own.
            TimeLimits.answer(ctx.request(), Failure.BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            return;
        }
        Throwable failure = ctx.failure();
        int status;
        if (failure instanceof HttpException http) {
            status = http.getStatusCode();
            failure = http.getPayload() == null ? null : new IllegalStateException(http.getPayload());
        } else {
            status = failure == null ? ctx.statusCode() : Failure.status(failure);
        }
        if (status < 400) {
            status = Failure.INTERNAL;
        }
        if (status == Failure.INTERNAL && Bodies.failedReading(ctx)) {
            // The body parser gave up on what the client sent (a broken multipart, a field over a limit).
            status = Failure.BAD_REQUEST;
            failure = new Failure.BadRequest("the request body could not be read: "
                    + bodyProblem(failure, ctx.request().getHeader("Content-Type")));
        }
        String message;
        if (failure instanceof Failure.ContentDamaged damaged) {
            // The store's data, not this request or the code: said as it is, once, without a stack.
            LOG.warn("{} {}: {}", ctx.request().method(), ctx.request().path(), damaged.getMessage());
            message = damaged.getMessage();
        } else if (status >= 500 && status != Failure.UNAVAILABLE) {
            LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
            message = "internal error; see the node's log";
        } else {
            message = failure == null || failure.getMessage() == null ? defaultMessage(status) : failure.getMessage();
        }
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        if (status == Failure.UNAVAILABLE) {
            ctx.response().putHeader("Retry-After", String.valueOf(Failure.RETRY_AFTER_SECONDS));
        }
        if (failure instanceof Failure.RangeNotSatisfiable range) {
            // RFC 9110 (15.5.17): a 416 tells the content's size.
            ctx.response().putHeader("Content-Range", "bytes */" + range.size());
        }
        if (status == Failure.METHOD_NOT_ALLOWED) {
            List<String> allowed = allowedMethods.apply(ctx.request().path());
            if (!allowed.isEmpty()) {
                ctx.response().putHeader("Allow", String.join(", ", allowed));
                message = ctx.request().method().name() + " is not served on "
                        + ctx.request().path() + "; it takes " + String.join(", ", allowed);
            }
        }
        JsonObject body = new JsonObject().put("error", Failure.word(status)).put("message", message);
        JsonObject running = status == Failure.CONFLICT ? runningOperation(message) : null;
        if (running != null) {
            // The operation tracker's refusal names the tenant's running operation as JSON: the body
            // carries it as POST /api/v1/sync does, not as a JSON string inside the message.
            body = running.copy()
                    .put("error", Failure.word(status))
                    .put("message", "an operation is already running for this tenant");
        }
        Answers.end(ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json"), body.encode());
        if (Bodies.failedReading(ctx)) {
            TimeLimits.flushNow(ctx.request());
        }
    }

    /**
     * For the router's 400, which it answers itself (plain text) when it cannot route a request at
     * all: a path that is not valid percent-encoding ({@code /api/files/%zz}) fails Vert.x's
     * normalisation before any route, failure handler included, is matched. Answered with the JSON
     * error body naming the path.
     */
    public void unroutable(RoutingContext ctx) {
        String path = ctx.request().path();
        String message;
        try {
            QueryStringDecoder.decodeComponent(path == null ? "" : path.replace("+", "%2B"), StandardCharsets.UTF_8);
            message = "path: " + shortened(path) + " cannot be routed";
        } catch (IllegalArgumentException e) {
            message = "path: " + shortened(path)
                    + " is not valid percent-encoding (each % must be followed by two hexadecimal digits)";
        }
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        Answers.end(
                ctx.response().setStatusCode(Failure.BAD_REQUEST).putHeader("Content-Type", "application/json"),
                new JsonObject()
                        .put("error", Failure.word(Failure.BAD_REQUEST))
                        .put("message", message)
                        .encode());
    }

    private static String shortened(String path) {
        String p = String.valueOf(path);
        return p.length() <= 200 ? p : p.substring(0, 200) + "…";
    }

    /** The running operation a conflict's message carries ({@code {"conflict": true, "latest_sync": …}}), or null. */
    private static JsonObject runningOperation(String message) {
        if (message == null || !message.startsWith("{")) {
            return null;
        }
        try {
            JsonObject parsed = new JsonObject(message);
            return parsed.getBoolean("conflict", false) ? parsed : null;
        } catch (RuntimeException notJson) {
            return null;
        }
    }

    /** What was wrong with a body of {@code contentType} the parser refused, in words the client can act on. */
    private static String bodyProblem(Throwable failure, String contentType) {
        String name = failure == null ? "" : failure.getClass().getSimpleName();
        boolean form = contentType != null
                && contentType.strip().toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded");
        return switch (name) {
            case "TooLongFormFieldException" -> "a form field is too long";
            case "TooManyFormFieldsException" -> "too many form fields";
            case "ErrorDataDecoderException", "NotEnoughDataDecoderException" -> (form
                            ? "malformed form data"
                            : "malformed multipart data")
                    + decoderDetail(failure);
            default -> failure instanceof IOException && failure.getMessage() != null
                    ? failure.getMessage()
                    : "malformed multipart or form data";
        };
    }

    /** What the multipart decoder found, in a caller's words: its messages quote Java exceptions. */
    private static String decoderDetail(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof IllegalCharsetNameException || root instanceof UnsupportedCharsetException) {
            return " (a part names a charset this server does not know)";
        }
        if (root instanceof NullPointerException) {
            // The decoder meets a part whose Content-Disposition names no field with an NPE, whose
            // message quoted its code ("Cannot invoke …Attribute.getValue() because nameAttribute is null").
            return String.valueOf(root.getMessage()).contains("nameAttribute")
                    ? " (a part's Content-Disposition names no field: form-data; name=\"…\")"
                    : "";
        }
        String detail = root.getMessage() == null
                ? ""
                : root.getMessage()
                        .replaceAll("(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_]*(?:Exception|Error):?\\s*", "")
                        .strip();
        return detail.isEmpty() ? "" : " (" + detail + ")";
    }

    private static String defaultMessage(int status) {
        return switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 413 -> "request body too large";
            default -> "request failed";
        };
    }
}
