package io.trisync.bridge;

import io.trisync.auth.Caller;
import io.trisync.auth.Tokens;
import io.trisync.config.TrisyncConfig.EventsConfig;
import io.trisync.events.EventAddresses;
import io.trisync.metrics.Metrics;
import io.trisync.store.Ids;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every frame of the SockJS bridge passes here before the bridge acts on it. A browser's first frame
 * must carry its token (header {@code token}); the socket's caller is verified once and kept until
 * the token expires, when the socket is closed. Until then, and for a token refused, the socket can
 * do nothing. Registrations: a tenant socket only its
 * own {@code trisync.events.{tenant}}, an admin socket also {@code trisync.events.all} and any
 * tenant's. Sends: only {@link BridgeAddresses#INBOUND}, with the body's {@code tenantId} replaced by
 * the token's (an admin's is kept, and must be a valid id). Publishes are refused. Every message
 * about to be written to a socket is checked again against its caller, so nothing reaches a socket
 * that its token does not allow. A socket that sends a frame larger than the limit, or registers more
 * addresses than the limit, is closed with the reason ({@link FrameCheck} closes one that sends more
 * frames a second than the limit).
 */
final class BridgeGuard implements Handler<BridgeEvent> {

    private static final Logger LOG = LoggerFactory.getLogger(BridgeGuard.class);
    static final int MAX_ADDRESS = 256;

    /** What the guard knows of one socket. Only touched on the bridge's event loop. */
    private static final class Socket {
        Caller caller;
        /**
         * The addresses registered. A count drifted: a second registration of an address (which the
         * bridge refuses, address_already_registered) counted, so a tenant socket registering its own
         * address 17 times was closed for BRIDGE_MAX_HANDLERS; an unregistration of an address never
         * registered uncounted one, so an admin socket could go past the limit.
         */
        final Set<String> registered = new HashSet<>();
        /** Set once the guard has decided to close the socket: later frames are refused without a word. */
        boolean closing;
        /** When the token the caller was verified from expires (epoch ms); none with authentication off. */
        long expiresAtMs = Long.MAX_VALUE;
    }

    private final Tokens tokens;
    private final EventsConfig limits;
    private final Map<SockJSSocket, Socket> sockets = new HashMap<>();
    private final Metrics metrics;

    /** {@code tokens} null: authentication off, every socket acts as an admin. */
    BridgeGuard(Tokens tokens, EventsConfig limits, Metrics metrics) {
        this.metrics = metrics;
        this.tokens = tokens;
        this.limits = limits;
    }

    @Override
    public void handle(BridgeEvent event) {
        BridgeEventType type = event.type();
        SockJSSocket socket = event.socket();
        switch (type) {
            case SOCKET_CREATED -> {
                sockets.put(socket, new Socket());
                metrics.bridgeSocketOpened();
                event.complete(true);
            }
            case SOCKET_CLOSED -> {
                if (sockets.remove(socket) != null) {
                    metrics.bridgeSocketClosed();
                }
                event.complete(true);
            }
            case SOCKET_IDLE -> event.complete(true);
            case SOCKET_PING -> {
                // A socket that only pings would otherwise keep an expired caller's registrations.
                Socket state = sockets.get(socket);
                event.complete(true);
                if (state != null && state.caller != null && expired(state)) {
                    close(socket, state, "the token expired; open a new socket with a new token");
                }
            }
            case SOCKET_ERROR -> {
                // The transport could not take a frame (over the WebSocket message limit, undecodable):
                // the socket would otherwise stay open and deaf.
                event.complete(true);
                close(socket, sockets.computeIfAbsent(socket, s -> new Socket()), "frame refused by the transport");
            }
            case RECEIVE -> {
                Socket state = sockets.get(socket);
                if (state != null && expired(state)) {
                    event.complete(false);
                    close(socket, state, "the token expired; open a new socket with a new token");
                } else {
                    event.complete(mayReceive(state, event.getRawMessage()));
                }
            }
            case SEND, PUBLISH, REGISTER, UNREGISTER -> inbound(event, socket);
        }
    }

    private void inbound(BridgeEvent event, SockJSSocket socket) {
        Socket state = sockets.computeIfAbsent(socket, s -> new Socket());
        if (state.closing) {
            event.complete(false);
            return;
        }
        JsonObject raw = event.getRawMessage();
        String tooMuch = limits(raw);
        if (tooMuch != null) {
            event.complete(false);
            close(socket, state, tooMuch);
            return;
        }
        if (state.caller != null && expired(state)) {
            event.complete(false);
            close(socket, state, "the token expired; open a new socket with a new token");
            return;
        }
        if (state.caller != null) {
            decide(event, state);
            return;
        }
        if (tokens == null) {
            state.caller = Caller.UNAUTHENTICATED;
            decide(event, state);
            return;
        }
        // A frame is JSON from a browser: any field may hold any type.
        JsonObject headers = raw != null && raw.getValue("headers") instanceof JsonObject h ? h : null;
        String token = headers != null && headers.getValue("token") instanceof String t ? t : null;
        tokens.verify(token).onComplete(ar -> {
            if (ar.failed()) {
                LOG.debug("Bridge frame refused: {}", ar.cause().getMessage());
                event.complete(false);
            } else {
                state.caller = ar.result();
                state.expiresAtMs = expiresAtMs(token);
                decide(event, state);
            }
        });
    }

    /**
     * Whether the token the socket's caller was verified from has expired. A socket keeps its caller
     * from its first frame; it kept it past the token's expiry too, receiving the tenant's events and
     * answering its requests for as long as it pinged (a leaked or revoked-by-expiry token lived on).
     */
    private static boolean expired(Socket state) {
        return System.currentTimeMillis() >= state.expiresAtMs;
    }

    /**
     * The {@code exp} of a token {@link Tokens#verify} accepted (so three base64url parts, its claims a
     * JSON object with a numeric {@code exp}), in epoch ms; a token read otherwise counts as expired.
     */
    static long expiresAtMs(String token) {
        try {
            String[] parts = token.split("\\.");
            JsonObject claims =
                    new JsonObject(Buffer.buffer(Base64.getUrlDecoder().decode(parts[1])));
            if (claims.getValue("exp") instanceof Number exp) {
                long seconds = exp.longValue();
                return seconds >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : seconds * 1000;
            }
            return 0;
        } catch (RuntimeException unreadable) {
            LOG.warn("Bridge token accepted but its exp unreadable ({}): taken as expired", unreadable.getMessage());
            return 0;
        }
    }

    private void decide(BridgeEvent event, Socket state) {
        JsonObject raw = event.getRawMessage();
        String address = raw.getValue("address") instanceof String a ? a : "";
        Caller caller = state.caller;
        switch (event.type()) {
            case REGISTER -> {
                if (!mayListen(caller, address)) {
                    event.complete(false);
                } else if (state.registered.contains(address)) {
                    // The bridge answers address_already_registered; nothing more is registered.
                    event.complete(true);
                } else if (state.registered.size() >= limits.bridgeMaxHandlers()) {
                    event.complete(false);
                    close(
                            event.socket(),
                            state,
                            "more than " + limits.bridgeMaxHandlers() + " registered addresses (BRIDGE_MAX_HANDLERS)");
                } else {
                    state.registered.add(address);
                    event.complete(true);
                }
            }
            case UNREGISTER -> {
                state.registered.remove(address);
                event.complete(true);
            }
            case SEND -> {
                if (!BridgeAddresses.INBOUND.contains(address)) {
                    event.complete(false);
                    return;
                }
                JsonObject body = raw.getValue("body") instanceof JsonObject b ? b.copy() : new JsonObject();
                String tenant = caller.admin()
                        ? (body.getValue(BridgeAddresses.TENANT_ID) instanceof String t ? t : null)
                        : caller.tenant();
                if (tenant == null || !Ids.valid(tenant)) {
                    event.complete(false);
                    return;
                }
                body.put(BridgeAddresses.TENANT_ID, tenant);
                event.setRawMessage(raw.copy().put("body", body));
                event.complete(true);
            }
            default -> event.complete(false);
        }
    }

    /** Closes {@code socket} with {@code reason} (code 4008), once: a flood of frames logs one line. */
    private static void close(SockJSSocket socket, Socket state, String reason) {
        if (state.closing) {
            return;
        }
        state.closing = true;
        LOG.info("Closing bridge socket {}: {}", socket.remoteAddress(), reason);
        socket.close(4008, reason);
    }

    /** Whether {@code caller} may register {@code address}: exact names only, never a pattern. */
    static boolean mayListen(Caller caller, String address) {
        if (caller == null || address == null || address.length() > MAX_ADDRESS) {
            return false;
        }
        if (caller.tenant() != null
                && !address.equals(EventAddresses.ALL)
                && address.equals(EventAddresses.tenant(caller.tenant()))) {
            return true;
        }
        if (!caller.admin()) {
            return false;
        }
        if (address.equals(EventAddresses.ALL)) {
            return true;
        }
        String prefix = EventAddresses.TENANT_PREFIX;
        return address.startsWith(prefix) && Ids.valid(address.substring(prefix.length()));
    }

    private static boolean mayReceive(Socket state, JsonObject raw) {
        if (state == null || state.caller == null || raw == null) {
            return false;
        }
        String address = raw.getString("address");
        // Replies to a socket's own sends travel on generated reply addresses; everything else must be
        // an address the socket may listen to.
        return address != null && (!address.startsWith("trisync.") || mayListen(state.caller, address));
    }

    /** Null while the socket is within its limits, else the reason it is closed. */
    private String limits(JsonObject raw) {
        if (raw != null && raw.encode().length() > limits.bridgeMaxMessageBytes()) {
            return "frame larger than " + limits.bridgeMaxMessageBytes() + " bytes";
        }
        // The rate of frames is counted by FrameCheck, which sees every frame before the bridge.
        return null;
    }
}
