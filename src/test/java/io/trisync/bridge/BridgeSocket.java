package io.trisync.bridge;

import io.trisync.events.EventAddresses;
import io.trisync.testsupport.Await;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A test client of the event-bus bridge over SockJS's raw WebSocket transport ({@code
 * /eventbus/websocket}): the same JSON frames the official browser client sends, without the SockJS
 * framing. Records every frame received and whether (and why) the server closed the socket. {@code
 * publish} publishes an event to a tenant's address on the node and gives it back, with its {@code seq}.
 */
final class BridgeSocket implements AutoCloseable {

    final List<JsonObject> received = new CopyOnWriteArrayList<>();
    final Promise<String> closed = Promise.promise();
    private final WebSocketClient client;
    private final WebSocket socket;
    private final Function<String, JsonObject> publish;

    BridgeSocket(Vertx vertx, int port, Function<String, JsonObject> publish) {
        this.publish = publish;
        client = vertx.createWebSocketClient();
        socket = client.connect(port, "127.0.0.1", "/eventbus/websocket").await();
        // The raw transport may send text or binary frames: take the data of both.
        socket.handler(data -> received.add(new JsonObject(data)));
        socket.closeHandler(v -> closed.tryComplete(socket.closeReason() == null ? "" : socket.closeReason()));
    }

    void register(String address, String token) {
        send(new JsonObject().put("type", "register").put("address", address).put("headers", headers(token)));
    }

    void send(String address, JsonObject body, String replyAddress, String token) {
        JsonObject frame = new JsonObject()
                .put("type", "send")
                .put("address", address)
                .put("body", body)
                .put("headers", headers(token));
        if (replyAddress != null) {
            frame.put("replyAddress", replyAddress);
        }
        send(frame);
    }

    void send(JsonObject frame) {
        socket.writeTextMessage(frame.encode());
    }

    /** Sends {@code text} as it is, JSON or not. */
    void sendText(String text) {
        socket.writeTextMessage(text);
    }

    /** Frames received on {@code address} ("rec" frames). */
    List<JsonObject> on(String address) {
        return received.stream()
                .filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
                .toList();
    }

    /** Error frames ("err"), e.g. access_denied. */
    List<JsonObject> errors() {
        return received.stream().filter(f -> "err".equals(f.getString("type"))).toList();
    }

    /**
     * Publishes a marker on {@code tenant}'s address, which this socket is subscribed to, and waits for
     * it: the bridge writes a socket's frames in the order the bus delivered them, so anything
     * published before the marker that was going to reach this socket has reached it by then. Absence
     * is proven by that barrier, not by waiting a while.
     */
    void barrier(String tenant) {
        JsonObject marker = publish.apply(tenant);
        Await.until("the barrier event on " + tenant, 5000, () -> on(EventAddresses.tenant(tenant)).stream()
                .anyMatch(f -> f.getJsonObject("body").getLong("seq").equals(marker.getLong("seq"))));
    }

    /** Registers on the tenant's own address and proves it live (an event arrives), so later silence means refusal. */
    void subscribe(String tenant, String token) {
        String address = EventAddresses.tenant(tenant);
        register(address, token);
        Await.until("subscribed to " + address, 5000, () -> {
            if (!on(address).isEmpty()) {
                return true;
            }
            publish.apply(tenant);
            return false;
        });
    }

    private static JsonObject headers(String token) {
        return token == null ? new JsonObject() : new JsonObject().put("token", token);
    }

    @Override
    public void close() {
        if (!socket.isClosed()) {
            socket.close().await();
        }
        client.close().await();
    }
}
