package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
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
 *       response, and {@link #sweep} removes any the process left behind;
 *   <li>a request the HTTP codec refused (line or headers too long, not HTTP) is answered 414, 431
 *       or 400; an HTTP/1.1 request without {@code Host} 400.
 * </ul>
 *
 * A request that has been received in full is never timed here: an analysis may rightly take minutes.
 */
final class TimeLimits {

    private static final Logger LOG = LoggerFactory.getLogger(TimeLimits.class);

    private final Vertx vertx;
    private final long idleMs;

    TimeLimits(Vertx vertx, long idleMs) {
        this.vertx = vertx;
        this.idleMs = idleMs;
    }

    /** The router's first handler: refuses a request without {@code Host}, watches a body that stalls. */
    void request(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.version() != HttpVersion.HTTP_2 && request.headers().get("Host") == null) {
            answer(request, Failure.BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            return;
        }
        if (!request.isEnded()) {
            watch(ctx);
        }
        ctx.next();
    }

    private void watch(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        long[] lastBytes = {request.bytesRead()};
        long[] lastMove = {System.nanoTime()};
        long timer = vertx.setPeriodic(Math.min(1000, idleMs), id -> {
            if (request.isEnded() || ctx.response().ended()) {
                vertx.cancelTimer(id);
                return;
            }
            long read = request.bytesRead();
            long now = System.nanoTime();
            if (read != lastBytes[0]) {
                lastBytes[0] = read;
                lastMove[0] = now;
            } else if (now - lastMove[0] >= idleMs * 1_000_000) {
                vertx.cancelTimer(id);
                answer(request, 408, "the request body stopped arriving (" + read + " bytes read)");
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
                        .put("error", status == 408 ? "request_timeout" : Failure.word(status))
                        .put("message", message)
                        .encode())
                .onComplete(v -> request.connection().close());
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
