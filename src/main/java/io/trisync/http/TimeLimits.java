package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server's time limits and its answers to requests the router never sees in a usable
 * form, all with the JSON error body:
 *
 * <ul>
 *   <li>a request whose headers are in but whose body stops arriving for {@code
 *       HTTP_IDLE_TIMEOUT_SECONDS} (an unterminated
 *       multipart) is answered 408 and its connection closed; its temporary upload file goes with the
 *       response, and {@link #sweep} removes any the process left behind. So is a body that keeps
 *       arriving, but slower than {@code HTTP_MIN_BODY_BYTES_PER_SECOND} over the last {@code
 *       HTTP_MIN_BODY_RATE_WINDOW_SECONDS} ({@link BodyPace}): a byte every few seconds held its
 *       connection and request for as long as it went on;
 *   <li>a connection on which no request begins for {@code HTTP_IDLE_TIMEOUT_SECONDS} (a client that
 *       connects and says nothing, a TLS hello or binary garbage the codec keeps waiting on, a
 *       request line or headers that stop half way, a keep-alive connection left idle) is closed;
 *   <li>a request the HTTP codec refused (line or headers too long, not HTTP) is answered 414, 431
 *       or 400; an HTTP version other than 1.0 and 1.1 505; a body the codec cannot decode (a chunk
 *       size that is not hexadecimal) 400 before the codec closes the connection; an HTTP/1.1
 *       request without {@code Host} 400.
 * </ul>
 *
 * A request that has been received in full is never timed here: an analysis may rightly take
 * minutes, and a connection with a request in flight (a SockJS stream or WebSocket too) is left
 * alone. One instance per HTTP verticle instance; its connections and requests all run on that
 * instance's event loop, so its state needs no locks.
 */
final class TimeLimits {

    private static final Logger LOG = LoggerFactory.getLogger(TimeLimits.class);

    private final Vertx vertx;
    private final long idleMs;
    private final long minBodyBytesPerSecond;
    private final long bodyRateWindowMs;

    /** Each open connection: requests begun and not yet answered, and when it last changed. */
    private final Map<HttpConnection, Activity> connections = new HashMap<>();

    private static final class Activity {
        int inFlight;
        long since = System.nanoTime();
    }

    private long idleSweeper = -1;

    /**
     * Limits of {@code idleMs} without a byte, and of {@code minBodyBytesPerSecond} (0: none) over the
     * last {@code bodyRateWindowMs} of a body.
     */
    TimeLimits(Vertx vertx, long idleMs, long minBodyBytesPerSecond, long bodyRateWindowMs) {
        this.vertx = vertx;
        this.idleMs = idleMs;
        this.minBodyBytesPerSecond = minBodyBytesPerSecond;
        this.bodyRateWindowMs = bodyRateWindowMs;
    }

    /**
     * For {@code HttpServer.connectionHandler} (with HTTP/2 cleartext off, so it runs as the client
     * connects, before any byte arrives): watches the connection until a request begins on it, and
     * hands its requests to {@code requests} itself, answering an HTTP version the server does not
     * speak with 505 and the JSON body (Vert.x would answer a bare 501 before any handler of ours).
     */
    void connection(HttpConnection connection, Handler<HttpServerRequest> requests) {
        connections.put(connection, new Activity());
        connection.closeHandler(v -> connections.remove(connection));
        if (connection instanceof HttpServerConnection server) {
            server.handler(request -> {
                if (request.version() == null) {
                    answer(request, 505, "only HTTP/1.0 and HTTP/1.1 are served");
                } else {
                    requests.handle(request);
                }
            });
        }
        if (idleSweeper < 0) {
            long period = Math.max(100, Math.min(1000, idleMs / 4));
            idleSweeper = vertx.setPeriodic(period, period, id -> closeIdle());
        }
    }

    private void closeIdle() {
        long now = System.nanoTime();
        List<HttpConnection> idle = new ArrayList<>();
        // A connection upgraded to a WebSocket never closes as an HTTP one (its close handler here does
        // not run), and its request never ends: it stays in flight, so it is never cut here (SockJS
        // heartbeats and the bridge's ping timeout reap one that goes quiet), and is forgotten once
        // its channel is closed. A request that only asks for an upgrade (Upgrade: websocket on a
        // route that answers it as any other, a handshake refused) is timed as any other: such a
        // connection was once let go unwatched, and stayed open for good.
        connections.entrySet().removeIf(e -> !open(e.getKey()));
        connections.forEach((connection, activity) -> {
            if (activity.inFlight == 0 && now - activity.since >= idleMs * 1_000_000) {
                idle.add(connection);
            }
        });
        for (HttpConnection connection : idle) {
            connections.remove(connection);
            LOG.debug(
                    "Closing connection from {}: no request began on it for {} ms", connection.remoteAddress(), idleMs);
            connection.close();
        }
    }

    /**
     * Whether the server reads {@code connection} (Vert.x stops reading it while a request's handler
     * does not keep up: a spool file written slowly); any other connection is taken as read.
     */
    private static boolean reading(HttpConnection connection) {
        return !(connection instanceof ConnectionBase base)
                || base.channelHandlerContext().channel().config().isAutoRead();
    }

    /** Whether {@code connection}'s channel is still open (any other connection is taken as open). */
    private static boolean open(HttpConnection connection) {
        return !(connection instanceof ConnectionBase base)
                || base.channelHandlerContext().channel().isOpen();
    }

    /** Stops watching connections (the verticle stops). */
    void stop() {
        if (idleSweeper >= 0) {
            vertx.cancelTimer(idleSweeper);
        }
    }

    /**
     * The router's first handler: counts the request on its connection, refuses a request without
     * {@code Host}, watches a body that stalls, and answers a body the codec cannot decode.
     */
    void request(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.version() != HttpVersion.HTTP_2 && request.headers().get("Host") == null) {
            answer(request, Failure.BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            return;
        }
        Activity activity = connections.get(request.connection());
        if (activity != null) {
            activity.inFlight++;
            activity.since = System.nanoTime();
            ctx.addEndHandler(v -> {
                activity.inFlight--;
                activity.since = System.nanoTime();
            });
        }
        if (!request.isEnded() && declaresBody(request)) {
            // Until a body handler takes the request over: the codec reports an undecodable body here
            // and closes the connection right after, so the answer must be written now.
            request.exceptionHandler(failure -> {
                if (!request.response().headWritten() && request.decoderResult().isSuccess()) {
                    answer(request, Failure.BAD_REQUEST, "malformed request body: " + failure.getMessage());
                }
            });
            watch(ctx);
        }
        ctx.next();
    }

    /**
     * Whether {@code request} has a body to wait for: HTTP/1.1 sends one only with a {@code
     * Content-Length} above 0 or a {@code Transfer-Encoding}. A request without one (a GET, a DELETE)
     * stays "not ended" while the router holds it paused, so watching it would answer a slow answer
     * 408 as if a body had stalled.
     */
    static boolean declaresBody(HttpServerRequest request) {
        if (request.version() == HttpVersion.HTTP_2 || request.getHeader("Transfer-Encoding") != null) {
            return true;
        }
        String length = request.getHeader("Content-Length");
        return length != null && !length.strip().equals("0");
    }

    /** The body's {@code Content-Length}, or -1 when it declares none (chunked) or one that is not a number. */
    private static long declaredLength(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        if (length == null) {
            return -1;
        }
        try {
            return Long.parseLong(length.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void watch(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        BodyPace pace =
                new BodyPace(idleMs, minBodyBytesPerSecond, bodyRateWindowMs, System.nanoTime(), request.bytesRead());
        long declared = declaredLength(request);
        long timer = vertx.setPeriodic(Math.min(1000, Math.min(idleMs, bodyRateWindowMs)), id -> {
            // A body received whole is the server's to read: one a handler holds paused (the
            // cluster's rate limit answering) has not ended, but nothing more is owed by the client.
            if (request.isEnded() || ctx.response().ended() || (declared >= 0 && request.bytesRead() >= declared)) {
                vertx.cancelTimer(id);
                return;
            }
            String refusal = pace.check(System.nanoTime(), request.bytesRead(), reading(request.connection()));
            if (refusal != null) {
                vertx.cancelTimer(id);
                answer(request, 408, refusal);
            }
        });
        ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    }

    /** For {@code HttpServer.invalidRequestHandler}: the codec's refusals, with a JSON body. */
    void invalid(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        String name = cause == null ? "" : cause.getClass().getSimpleName();
        switch (name) {
            case "TooLongHttpLineException" -> answer(request, 414, "the request line is too long");
            case "TooLongHttpHeaderException" -> answer(request, 431, "the request headers are too large");
            default -> answer(
                    request,
                    Failure.BAD_REQUEST,
                    "malformed HTTP request"
                            + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        }
    }

    /** Answers {@code status} with the JSON error body and closes the connection after it. */
    static void answer(HttpServerRequest request, int status, String message) {
        var response = request.response();
        if (response.headWritten()) {
            request.connection().close();
            return;
        }
        response.setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .putHeader("Connection", "close")
                .end(new JsonObject()
                        .put("error", Failure.word(status))
                        .put("message", message)
                        .encode())
                .onComplete(v -> request.connection().close());
        flushNow(request);
    }

    /**
     * Sends what has been written on {@code request}'s connection now. Vert.x holds writes made while
     * it is reading until the read is done; when the codec fails on what it read (a chunk size that
     * is not hexadecimal) it closes the connection right after telling the request, and an answer
     * still held is lost. Vert.x has no public flush, hence its connection class here.
     */
    static void flushNow(HttpServerRequest request) {
        if (request.connection() instanceof ConnectionBase connection) {
            connection.channelHandlerContext().flush();
        }
    }

    /**
     * Removes temporary upload files in {@code dir} untouched for two idle periods: an upload still
     * streaming keeps its file fresh, and a stalled one is answered 408 within one period.
     */
    int sweep(Path dir) {
        Instant cutoff = Instant.now().minusMillis(2 * idleMs);
        int removed = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                try {
                    if (Files.getLastModifiedTime(file).compareTo(FileTime.from(cutoff)) < 0
                            && Files.deleteIfExists(file)) {
                        removed++;
                    }
                } catch (IOException e) {
                    LOG.warn("Could not remove the stale upload file {}: {}", file, e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not list {} for stale upload files: {}", dir, e.getMessage());
        }
        if (removed > 0) {
            LOG.info("Removed {} temporary upload files left behind in {}", removed, dir);
        }
        return removed;
    }
}
