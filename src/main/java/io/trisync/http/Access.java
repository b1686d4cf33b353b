package io.trisync.http;

import io.trisync.auth.Caller;
import io.trisync.auth.Tokens;
import io.trisync.store.Actor;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * The first handler of every {@code /api} route: verifies the bearer token (401 without a valid one
 * when authentication is on), applies the per-caller request rate (429 with {@code Retry-After}), and
 * leaves the {@link Caller} on the context for the handlers, which ask {@link #caller} which tenant a
 * request may act on.
 */
public final class Access implements Handler<RoutingContext> {

    private static final String KEY = "trisync.caller";

    private final Tokens tokens;
    private final int perMinute;
    private final RateLimit limit;

    /** {@code tokens} null: authentication off, every caller {@link Caller#UNAUTHENTICATED}. */
    Access(Tokens tokens, int perMinute, RateLimit limit) {
        this.tokens = tokens;
        this.perMinute = perMinute;
        this.limit = limit;
    }

    public static Caller caller(RoutingContext ctx) {
        Caller caller = ctx.get(KEY);
        return caller == null ? Caller.UNAUTHENTICATED : caller;
    }

    /** Who is asking for a change, to record on what it makes: the caller and the client's address. */
    public static Actor actor(RoutingContext ctx) {
        Caller caller = caller(ctx);
        var remote = ctx.request().remoteAddress();
        return new Actor(
                caller.subject(), caller.tenant(), caller.admin(), remote == null ? null : remote.hostAddress());
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
        // The cluster's limit answers asynchronously: hold a body that is still arriving until the
        // route's BodyHandler takes it (it resumes the request), or its first bytes would be lost.
        if (!ctx.request().isEnded()) {
            ctx.request().pause();
        }
        limit.take(key).onFailure(ctx::fail).onSuccess(retryAfter -> {
            if (retryAfter > 0) {
                refuse(ctx, retryAfter);
            } else {
                ctx.put(KEY, caller);
                ctx.next();
            }
        });
    }

    private void refuse(RoutingContext ctx, long retryAfter) {
        ctx.response().putHeader("Retry-After", String.valueOf(retryAfter));
        FilesApi.json(
                ctx,
                429,
                new JsonObject()
                        .put("error", "too_many_requests")
                        .put("message", "more than " + perMinute + " requests a minute; retry in " + retryAfter + "s"));
    }

    private static void unauthorized(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        FilesApi.json(ctx, 401, new JsonObject().put("error", "unauthorized").put("message", message));
    }
}
