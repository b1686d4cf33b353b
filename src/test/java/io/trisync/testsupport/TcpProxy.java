package io.trisync.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on loopback in front of one store, the way an outage looks from a node: {@link #cut}
 * closes the listening port and every connection through it (clients get refused connections and
 * resets), {@link #restore} listens on the same port again. Bytes are piped both ways unchanged;
 * a {@link #slow} proxy holds back what the store answers, as a distant store would.
 */
public final class TcpProxy implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final NetClient client = vertx.createNetClient();
    private final int port;
    private final int targetPort;
    /** How long each piece of the store's answer is held back; 0: not at all. */
    private final long delayMillis;

    private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();
    private NetServer server;

    private TcpProxy(int port, int targetPort, long delayMillis) {
        this.port = port;
        this.targetPort = targetPort;
        this.delayMillis = delayMillis;
    }

    /** A proxy on a free port that forwards to {@code 127.0.0.1:targetPort}. */
    public static TcpProxy start(int targetPort) {
        return slow(targetPort, 0);
    }

    /**
     * A proxy that forwards every piece of the store's answer {@code delayMillis} after it came (in
     * order), so each request through it takes at least that much longer.
     */
    public static TcpProxy slow(int targetPort, long delayMillis) {
        TcpProxy proxy = new TcpProxy(ChildJvm.freePort(), targetPort, delayMillis);
        proxy.restore();
        return proxy;
    }

    public int port() {
        return port;
    }

    /** The store goes away: the port is closed and every connection through the proxy is cut. */
    public void cut() {
        if (server != null) {
            server.close().await();
            server = null;
        }
        for (NetSocket socket : sockets) {
            socket.close();
        }
        sockets.clear();
    }

    /** The store is back: the proxy listens on its port again. */
    public void restore() {
        if (server != null) {
            return;
        }
        server = vertx.createNetServer(new NetServerOptions().setReuseAddress(true))
                .connectHandler(this::forward)
                .listen(port, "127.0.0.1")
                .await();
    }

    private void forward(NetSocket front) {
        front.pause();
        sockets.add(front);
        front.closeHandler(v -> sockets.remove(front));
        client.connect(targetPort, "127.0.0.1")
                .onSuccess(back -> {
                    sockets.add(back);
                    back.closeHandler(v -> sockets.remove(back));
                    front.pipeTo(back);
                    if (delayMillis > 0) {
                        // Timers of one delay set on one event loop fire in the order they were set.
                        back.handler(bytes -> vertx.setTimer(delayMillis, t -> front.write(bytes)));
                        back.endHandler(v -> vertx.setTimer(delayMillis, t -> front.close()));
                    } else {
                        back.pipeTo(front);
                    }
                    front.resume();
                })
                .onFailure(e -> front.close());
    }

    @Override
    public void close() {
        cut();
        vertx.close().await();
    }
}
