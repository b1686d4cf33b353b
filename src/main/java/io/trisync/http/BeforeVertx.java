package io.trisync.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.function.Supplier;

/** Puts Netty handlers of ours on an HTTP/1 connection, just before Vert.x's own handler. */
final class BeforeVertx {

    /** Vert.x's handler of an HTTP/1 connection, which hands the body to the multipart decoder. */
    private static final String VERTX_HANDLER = "handler";

    private BeforeVertx() {}

    /** Adds {@code handler} as {@code name} to {@code connection} (an HTTP/1 one; others are left alone). */
    static void install(HttpConnection connection, String name, Supplier<ChannelHandler> handler) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline pipeline = base.channel().pipeline();
            if (pipeline.get(VERTX_HANDLER) != null && pipeline.get(name) == null) {
                pipeline.addBefore(VERTX_HANDLER, name, handler.get());
            }
        }
    }
}
