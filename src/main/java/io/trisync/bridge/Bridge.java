package io.trisync.bridge;

import io.trisync.auth.Tokens;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanMessages.StatusQuery;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.impl.EventBusBridgeImpl;
import java.util.Locale;

/**
 * The SockJS event-bus bridge: outbound only event addresses (the {@link BridgeGuard} narrows each
 * socket to its own tenant's), inbound only {@link BridgeAddresses#INBOUND}; SockJS heartbeats every
 * {@code WEBSOCKET_PING_INTERVAL} seconds and sockets that stop pinging are reaped.
 */
public final class Bridge {

    private Bridge() {}

    /**
     * The most a SockJS XHR transport may post at once (its frames, JSON-encoded): as much as one
     * WebSocket frame may carry (Vert.x's default maximum frame size); the guard's per-message limit
     * applies to each frame after it.
     */
    public static final int MAX_POSTED_BYTES = 65_536;

    /** The bridge's routes, to mount at {@code /eventbus/*}; {@code tokens} null: authentication off. */
    public static Router router(Vertx vertx, TrisyncConfig.EventsConfig config, Tokens tokens, Metrics metrics) {
        long ping = config.websocketPingIntervalSeconds() * 1000L;
        SockJSBridgeOptions options = new SockJSBridgeOptions()
                .addOutboundPermitted(
                        new PermittedOptions().setAddressRegex("trisync\\.events\\.[A-Za-z0-9._@-]{1,128}"))
                .setMaxAddressLength(BridgeGuard.MAX_ADDRESS)
                // The guard limits registrations (and closes the socket past them); Vert.x's own count also
                // takes the reply handlers of sends, which the frame rate already bounds.
                .setMaxHandlersPerSocket(config.bridgeMaxHandlers() + 10_000)
                .setPingTimeout(Math.max(10_000, 3 * ping));
        BridgeAddresses.INBOUND.forEach(a -> options.addInboundPermitted(new PermittedOptions().setAddress(a)));
        // The bridge Vert.x's bridge(...) would make, given each socket through FrameCheck.
        EventBusBridgeImpl bridge =
                new EventBusBridgeImpl(vertx, null, options, new BridgeGuard(tokens, config, metrics));
        return SockJSHandler.create(vertx, new SockJSHandlerOptions().setHeartbeatInterval(ping))
                .socketHandler(
                        socket -> bridge.handle(new FrameCheck(vertx, socket, config.bridgeMaxMessagesPerSecond())));
    }

    /**
     * The callback SockJS's JSONP and htmlfile transports call ({@code c}, or {@code callback}), checked
     * as Vert.x's transports check it (present; letters, digits, {@code -}, {@code _} and {@code .}
     * only): they answered 500 {@code "callback" parameter required} in plain text.
     */
    public static void checkCallback(RoutingContext ctx) {
        String callback = ctx.request().getParam("callback");
        String name = "callback";
        if (callback == null) {
            callback = ctx.request().getParam("c");
            name = "c";
        }
        if (callback == null || !callback.matches("[A-Za-z0-9_.-]+")) {
            ctx.fail(new Failure.BadRequest(name + ": this SockJS transport needs the callback it calls, of letters,"
                    + " digits, '-', '_' and '.' only" + (callback == null ? "; none was sent" : "")));
            return;
        }
        ctx.next();
    }

    /**
     * Where SockJS keeps a node's open sessions (Vert.x's {@code SockJSImpl}: one map per Vert.x
     * instance, so every HTTP verticle of the node sees every session).
     */
    static final String SESSIONS = "_vertx.sockjssessions";

    /** What SockJS's {@code xhr_send} takes: JSON, as sockjs-client sends it a JSON array of the socket's frames. */
    private static final String FRAMES = "JSON (sockjs-client sends a JSON array of SockJS frames, each a string)";

    /**
     * A frame posted to a SockJS session ({@code POST /eventbus/{server}/{session}/xhr_send} or {@code
     * jsonp_send}), checked before the transport takes it: a session not open on this node is 404
     * naming it (SockJS answered 404 with an empty body), and so is one that has closed while SockJS
     * still keeps it ({@link ClosedSessions}); a body that SockJS would refuse is 400 naming the body
     * ({@link #sendProblem}; SockJS answered 500 in plain text, "Payload expected." or "Broken JSON
     * encoding."), both with the JSON error body. What SockJS takes is left to it as it was.
     * sockjs-client reads only the status of a send, so its protocol is unchanged.
     */
    public static Handler<RoutingContext> checkSend(Vertx vertx) {
        return ctx -> {
            String[] path = ctx.request().path().split("/");
            String session = path[path.length - 2];
            Object held = vertx.sharedData().getLocalMap(SESSIONS).get(session);
            if (held == null) {
                ctx.fail(new Failure.NotFound("session: no SockJS session " + session + " is open on this node; open"
                        + " one first (a POST of …/" + session + "/xhr, or another transport), or open a new one if"
                        + " it has closed"));
                return;
            }
            if (ClosedSessions.has(held)) {
                ctx.fail(new Failure.NotFound("session: SockJS session " + session + " has closed; open a new one (a"
                        + " POST of …/{another id}/xhr, or another transport)"));
                return;
            }
            Failure problem = sendProblem(
                    path[path.length - 1],
                    ctx.request().getHeader("Content-Type"),
                    ctx.body().length() <= 0 ? "" : ctx.body().asString());
            if (problem != null) {
                ctx.fail(problem);
                return;
            }
            ctx.next();
        };
    }

    /** How SockJS's {@code jsonp_send} reads a form-encoded body: its frames in the field {@code d}. */
    private static final String FORM = "application/x-www-form-urlencoded";

    /**
     * Why SockJS's {@code transport} ({@code xhr_send} or {@code jsonp_send}) would refuse a body of
     * {@code contentType}, or null when it takes it. {@code xhr_send} reads the body as the frames
     * ({@link #framesProblem}). {@code jsonp_send} takes a body of exactly {@code text/plain}, read as
     * {@code xhr_send}'s, or {@code application/x-www-form-urlencoded} (the hidden form of
     * sockjs-client's JSONP transport), {@code d=} and the frames URL-encoded; any other type SockJS
     * answered 500 {@code Invalid Content-Type}, here 415.
     */
    static Failure sendProblem(String transport, String contentType, String body) {
        if (!transport.equals("jsonp_send")) {
            return badBody(framesProblem(body));
        }
        boolean form = FORM.equalsIgnoreCase(contentType);
        if (!form && !"text/plain".equalsIgnoreCase(contentType)) {
            return new Failure.UnsupportedMediaType("Content-Type: jsonp_send takes " + FORM + " (d= and the frames,"
                    + " URL-encoded) or text/plain (the frames), "
                    + (contentType == null ? "and none was sent" : "not " + shown(contentType)));
        }
        if (!form) {
            return badBody(framesProblem(body));
        }
        if (body.length() <= 2 || !body.startsWith("d=")) {
            return new Failure.BadRequest("body: " + (body.isEmpty() ? "empty; " : "") + "a form-encoded jsonp_send"
                    + " carries its frames in d=, " + FRAMES + ", URL-encoded");
        }
        String frames;
        try {
            frames = RFC3986.decodeURIComponent(body, true).substring(2);
        } catch (IllegalArgumentException e) {
            return new Failure.BadRequest("body: not URL-encoded (" + e.getMessage() + "); a form-encoded jsonp_send"
                    + " carries its frames in d=, " + FRAMES + ", URL-encoded");
        }
        return badBody(framesProblem(frames));
    }

    private static Failure badBody(String problem) {
        return problem == null ? null : new Failure.BadRequest("body: " + problem);
    }

    private static String shown(String value) {
        return value.length() <= 60 ? value : value.substring(0, 60) + "…";
    }

    /**
     * Why SockJS's {@code xhr_send} would refuse {@code body}, or null when it takes it: as its
     * transport does, an empty body and one that is not JSON are refused; any JSON value, and a blank
     * body, are taken (the bridge refuses a frame that is not one of its messages itself).
     */
    static String framesProblem(String body) {
        if (body.isEmpty()) {
            return "empty; " + FRAMES + " is expected";
        }
        if (body.isBlank()) {
            return null;
        }
        try {
            Json.decodeValue(body);
            return null;
        } catch (RuntimeException e) {
            return "not JSON; " + FRAMES + " is expected";
        }
    }

    /**
     * A request to the bridge's WebSocket transports ({@code /eventbus/websocket}, {@code
     * /eventbus/{server}/{session}/websocket}) that cannot open one: another method is 405, a GET
     * without {@code Upgrade: websocket}, {@code Connection: Upgrade}, a {@code Sec-WebSocket-Key} or
     * version 13 is 400 naming the header, with the JSON body. Vert.x answered these in plain text
     * ({@code Can "Upgrade" only to "WebSocket".}, a bare 400, 405 or 426).
     */
    public static void checkWebSocket(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.method() != HttpMethod.GET) {
            ctx.fail(Failure.METHOD_NOT_ALLOWED);
            return;
        }
        String problem = null;
        if (!"websocket"
                .equalsIgnoreCase(String.valueOf(request.getHeader("Upgrade")).strip())) {
            problem = "Upgrade: this is the event bus bridge's WebSocket transport; it takes GET with Upgrade:"
                    + " websocket";
        } else if (!String.valueOf(request.getHeader("Connection"))
                .toLowerCase(Locale.ROOT)
                .contains("upgrade")) {
            problem = "Connection: a WebSocket opens with Connection: Upgrade";
        } else if (request.getHeader("Sec-WebSocket-Key") == null
                || request.getHeader("Sec-WebSocket-Key").isBlank()) {
            problem = "Sec-WebSocket-Key: required to open a WebSocket";
        } else if (!"13"
                .equals(String.valueOf(request.getHeader("Sec-WebSocket-Version"))
                        .strip())) {
            ctx.response().putHeader("Sec-WebSocket-Version", "13");
            problem = "Sec-WebSocket-Version: this server speaks version 13 (RFC 6455)";
        }
        if (problem != null) {
            ctx.fail(new Failure.BadRequest(problem));
            return;
        }
        ctx.next();
    }

    /** Answers {@link BridgeAddresses#STATUS}: the socket's tenant's status, as the scan verticles report it. */
    public static Future<JsonObject> status(Vertx vertx, JsonObject body) {
        return vertx.eventBus()
                .<JsonObject>request(
                        ScanAddresses.TENANT_STATUS,
                        new StatusQuery(TenantRef.fromJson(body).tenantId(), 50, null).toJson())
                .map(Message::body);
    }
}
