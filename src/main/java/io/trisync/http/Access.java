package io.trisync.http;

import io.trisync.auth.Caller;
import io.trisync.auth.Tokens;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The first handler of every {@code /api} route: verifies the bearer token (401 without a valid one
 * when authentication is on), applies the per-caller request rate (429 with {@code Retry-After}), and
 * leaves the {@link Caller} on the context for the handlers, which ask {@link #caller} which tenant a
 * request may act on.
 */
public final class Access implements Handler<RoutingContext> {

    private static final String KEY = "trisync.caller";
    /** Callers whose recent requests are remembered (least recently seen forgotten first). */
    private static final int TRACKED = 10_000;

    private final Tokens tokens;
    private final int perMinute;
    private final Map<String, Deque<Long>> recent = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<Long>> eldest) {
            return size() > TRACKED;
        }
    };

    /** {@code tokens} null: authentication off, every caller {@link Caller#UNAUTHENTICATED}. */
    public Access(Tokens tokens, int perMinute) {
        this.tokens = tokens;
        this.perMinute = perMinute;
    }

    public static Caller caller(RoutingContext ctx) {
        Caller caller = ctx.get(KEY);
        return caller == null ? Caller.UNAUTHENTICATED : caller;
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (tokens == null) {
            admit(
                    ctx,
                    Caller.UNAUTHENTICATED,
                    "address:" + ctx.request().remoteAddress().hostAddress());
            return;
        }
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            unauthorized(ctx, "an Authorization: Bearer <token> header is required");
            return;
        }
        tokens.verify(header.substring(7).trim())
                .onSuccess(caller -> admit(ctx, caller, "subject:" + caller.subject()))
                .onFailure(e -> unauthorized(ctx, "the token was refused: " + e.getMessage()));
    }

    private void admit(RoutingContext ctx, Caller caller, String key) {
        long retryAfter = take(key, System.currentTimeMillis());
        if (retryAfter > 0) {
            ctx.response().putHeader("Retry-After", String.valueOf(retryAfter));
            FilesApi.json(
                    ctx,
                    429,
                    new JsonObject()
                            .put("error", "too_many_requests")
                            .put(
                                    "message",
                                    "more than " + perMinute + " requests a minute; retry in " + retryAfter + "s"));
            return;
        }
        ctx.put(KEY, caller);
        ctx.next();
    }

    /** A sliding one-minute window per caller; returns 0 when admitted, else the seconds to wait. */
    private synchronized long take(String key, long now) {
        Deque<Long> times = recent.computeIfAbsent(key, k -> new ArrayDeque<>());
        while (!times.isEmpty() && times.peekFirst() <= now - 60_000) {
            times.pollFirst();
        }
        if (times.size() >= perMinute) {
            return Math.max(1, (times.peekFirst() + 60_000 - now + 999) / 1000);
        }
        times.addLast(now);
        return 0;
    }

    private static void unauthorized(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        FilesApi.json(ctx, 401, new JsonObject().put("error", "unauthorized").put("message", message));
    }
}
