package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.math.BigInteger;

/**
 * Reading request bodies: a route that takes one reads it with {@link #reading}, its {@code
 * BodyHandler} and {@link #read} in that order, so a failure while the body is parsed (a broken
 * multipart, a field over a limit) is known as the client's fault and answered 400 by {@link
 * FailureHandler}; and typed field readers that refuse a wrong type naming the field.
 */
final class Bodies {

    private static final String READING = "trisync.reading-body";

    private Bodies() {}

    /**
     * A {@code POST path} route that reads its body with {@code body} between the marks; its own
     * handler follows. (Vert.x wants a body handler first on its route, so the first mark is a route
     * of its own, matched just before.)
     */
    static Route post(Router router, String path, Handler<RoutingContext> body) {
        return route(router, HttpMethod.POST, path, body);
    }

    /** A {@code method path} route that reads its body as {@link #post} does. */
    static Route route(Router router, HttpMethod method, String path, Handler<RoutingContext> body) {
        router.route(method, path).handler(Bodies::reading);
        return router.route(method, path).handler(body).handler(Bodies::read);
    }

    /**
     * A {@code POST path} route outside the contract (the bridge's SockJS transports) that reads its
     * body with {@code body} between the marks, so a body the parser refuses is 400 there too.
     */
    static void postUncontracted(Router router, String path, Handler<RoutingContext> body) {
        router.post(path).handler(Bodies::reading);
        router.post(path).handler(body).handler(ctx -> {
            ctx.remove(READING);
            ctx.next();
        });
    }

    private static void reading(RoutingContext ctx) {
        ctx.put(READING, true);
        ctx.next();
    }

    private static void read(RoutingContext ctx) {
        ctx.remove(READING);
        Contract.afterBody(ctx);
    }

    /**
     * Answers {@code Expect: 100-continue} with {@code 100 Continue} before a body is read here, as the
     * {@code BodyHandler} does for the routes it reads: a client that sent it (curl for a body over
     * 1 KiB, others for every body) waits for that answer before it sends the body, so a reader that
     * did not answer waited for the client's own timeout. Returns false when {@code ctx} has failed
     * 417 instead: another expectation, or one sent over HTTP/1.0, which has no interim answers.
     */
    static boolean continueIfExpected(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String expect = request.getHeader(HttpHeaders.EXPECT);
        if (expect == null) {
            return true;
        }
        if (!"100-continue".equalsIgnoreCase(expect.trim()) || request.version() == HttpVersion.HTTP_1_0) {
            // The body is left unread: the connection cannot carry another request after it.
            request.response().putHeader(HttpHeaders.CONNECTION, "close");
            ctx.fail(new HttpException(417));
            return false;
        }
        request.response().writeContinue();
        return true;
    }

    /** Whether {@code ctx} failed while its body was being parsed (before any handler of ours saw it). */
    static boolean failedReading(RoutingContext ctx) {
        return Boolean.TRUE.equals(ctx.get(READING));
    }

    /**
     * The body as a JSON object; an empty body (whitespace only too, as {@link Contract#afterBody}
     * takes it) and the literal {@code null} are {@code {}} (every field defaulted).
     */
    static JsonObject object(RoutingContext ctx) {
        if (ctx.body() == null
                || ctx.body().buffer() == null
                || ctx.body().buffer().toString().isBlank()) {
            return new JsonObject();
        }
        Object parsed;
        try {
            parsed = ctx.body().buffer().toJsonValue();
        } catch (DecodeException e) {
            throw new Failure.BadRequest("body must be a JSON object: " + e.getMessage());
        }
        if (parsed == null) {
            return new JsonObject();
        }
        if (!(parsed instanceof JsonObject json)) {
            throw new Failure.BadRequest("body must be a JSON object");
        }
        return json;
    }

    static String string(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof String)) {
            throw new Failure.BadRequest(field + " must be a string");
        }
        return (String) value;
    }

    static boolean bool(JsonObject body, String field, boolean fallback) {
        Object value = body.getValue(field, fallback);
        if (!(value instanceof Boolean b)) {
            throw new Failure.BadRequest(field + " must be true or false");
        }
        return b;
    }

    static Integer integer(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof Integer)) {
            throw new Failure.BadRequest(field
                    + (wholeNumber(value) && Math.abs(((Number) value).doubleValue()) > Integer.MAX_VALUE
                            ? " is too large (at most " + Integer.MAX_VALUE + ")"
                            : " must be a whole number"));
        }
        return (Integer) value;
    }

    /** Whether {@code value} is a whole number, however large ({@code 1e12} is one). */
    static boolean wholeNumber(Object value) {
        if (value instanceof Long || value instanceof BigInteger) {
            return true;
        }
        if (value instanceof Number n) {
            double d = n.doubleValue();
            return Double.isFinite(d) && d == Math.rint(d);
        }
        return false;
    }

    static JsonArray list(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof JsonArray)) {
            throw new Failure.BadRequest(field + " must be a list");
        }
        return (JsonArray) value;
    }
}
