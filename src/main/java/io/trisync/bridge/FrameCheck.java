package io.trisync.bridge;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.auth.User;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Session;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.impl.SockJSSocketBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A SockJS socket as the event-bus bridge sees it, with one check before each frame reaches the
 * bridge: a frame whose {@code type}, {@code address} or {@code replyAddress} is not a string, or
 * whose {@code headers} is not an object, gets an error frame and goes no further. Vert.x's bridge
 * casts them before (or while building) the event any hook of ours sees, so such a frame would
 * otherwise get no answer at all. Everything else is the socket's own. It extends Vert.x's socket
 * base because the bridge casts its sockets to it to close an idle one.
 *
 * <p>Every frame counts against {@code BRIDGE_MAX_MESSAGES_PER_SECOND} here, before anything reads
 * it: a socket over the rate is closed with the reason (4008) and its later frames dropped. The
 * count was the {@link BridgeGuard}'s, which sees only the frames the bridge hands it, so pings,
 * text that is not JSON, frames without a type and frames refused here went uncounted, and each
 * of the last three was answered with an error frame: 300 such frames a second got 300 answers,
 * and the socket stayed open.
 */
final class FrameCheck extends SockJSSocketBase {

    private static final Logger LOG = LoggerFactory.getLogger(FrameCheck.class);

    private final SockJSSocket socket;
    private final int maxFramesPerSecond;
    private long windowStart;
    private int frames;
    private boolean closing;

    FrameCheck(Vertx vertx, SockJSSocket socket, int maxFramesPerSecond) {
        super(vertx, socket.routingContext(), new SockJSHandlerOptions().setRegisterWriteHandler(false));
        this.socket = socket;
        this.maxFramesPerSecond = maxFramesPerSecond;
        // Until the bridge sets its own (a socket its guard refused never gets one).
        socket.closeHandler(v -> ClosedSessions.add(socket));
    }

    /** Counts a frame: false, having closed the socket, when it is over the rate (or closing already). */
    private boolean withinRate() {
        if (closing) {
            return false;
        }
        long now = System.currentTimeMillis();
        if (now - windowStart >= 1000) {
            windowStart = now;
            frames = 0;
        }
        if (++frames > maxFramesPerSecond) {
            closing = true;
            String reason = "more than " + maxFramesPerSecond + " frames a second";
            LOG.info("Closing bridge socket {}: {}", socket.remoteAddress(), reason);
            ClosedSessions.add(socket);
            socket.close(4008, reason);
            return false;
        }
        return true;
    }

    /** Why {@code frame} cannot go to the bridge, or null when it can (including text that is not JSON). */
    static String refusal(Buffer frame) {
        JsonObject json;
        try {
            json = frame.toJsonObject();
        } catch (RuntimeException notAnObject) {
            return null;
        }
        Object type = json.getValue("type");
        if (type != null && !(type instanceof String)) {
            return "type must be a string";
        }
        for (String field : new String[] {"address", "replyAddress"}) {
            Object value = json.getValue(field);
            if (value != null && !(value instanceof String)) {
                return field + " must be a string";
            }
        }
        Object headers = json.getValue("headers");
        if (headers != null && !(headers instanceof JsonObject)) {
            return "headers must be an object";
        }
        return null;
    }

    @Override
    public SockJSSocket handler(Handler<Buffer> handler) {
        socket.handler(
                handler == null
                        ? null
                        : frame -> {
                            if (!withinRate()) {
                                return;
                            }
                            String refused = refusal(frame);
                            if (refused == null) {
                                handler.handle(frame);
                            } else {
                                socket.write(new JsonObject()
                                        .put("type", "err")
                                        .put("body", "invalid_frame")
                                        .put("message", refused)
                                        .toBuffer());
                            }
                        });
        return this;
    }

    @Override
    public SockJSSocket exceptionHandler(Handler<Throwable> handler) {
        socket.exceptionHandler(handler);
        return this;
    }

    @Override
    public SockJSSocket pause() {
        socket.pause();
        return this;
    }

    @Override
    public SockJSSocket resume() {
        socket.resume();
        return this;
    }

    @Override
    public SockJSSocket fetch(long amount) {
        socket.fetch(amount);
        return this;
    }

    @Override
    public SockJSSocket endHandler(Handler<Void> endHandler) {
        socket.endHandler(endHandler);
        return this;
    }

    /** The bridge's close handler, after the session is marked closed ({@link ClosedSessions}). */
    @Override
    public SockJSSocket closeHandler(Handler<Void> closeHandler) {
        socket.closeHandler(v -> {
            ClosedSessions.add(socket);
            if (closeHandler != null) {
                closeHandler.handle(v);
            }
        });
        return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
        return socket.write(data);
    }

    @Override
    public SockJSSocket setWriteQueueMaxSize(int maxSize) {
        socket.setWriteQueueMaxSize(maxSize);
        return this;
    }

    @Override
    public boolean writeQueueFull() {
        return socket.writeQueueFull();
    }

    @Override
    public SockJSSocket drainHandler(Handler<Void> handler) {
        socket.drainHandler(handler);
        return this;
    }

    @Override
    public String writeHandlerID() {
        return socket.writeHandlerID();
    }

    @Override
    public Future<Void> end() {
        return socket.end();
    }

    // Each close marks the session closed before SockJS does (its close handler runs later, on the
    // session's context): a frame posted once its poll has answered the close frame is refused.

    @Override
    public void close() {
        ClosedSessions.add(socket);
        socket.close();
    }

    @Override
    public void close(int statusCode, String reason) {
        ClosedSessions.add(socket);
        socket.close(statusCode, reason);
    }

    @Override
    public void closeAfterSessionExpired() {
        ClosedSessions.add(socket);
        if (socket instanceof SockJSSocketBase base) {
            base.closeAfterSessionExpired();
        } else {
            socket.close();
        }
    }

    @Override
    public SocketAddress remoteAddress() {
        return socket.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return socket.localAddress();
    }

    @Override
    public MultiMap headers() {
        return socket.headers();
    }

    @Override
    public String uri() {
        return socket.uri();
    }

    @Override
    public RoutingContext routingContext() {
        return socket.routingContext();
    }

    @Override
    public Session webSession() {
        return socket.webSession();
    }

    @Override
    public User webUser() {
        return socket.webUser();
    }
}
