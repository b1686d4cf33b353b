package io.trisync.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;

/**
 * Cuts a request body's chunks so that none but the last ends in CR, before Vert.x offers them to its
 * multipart decoder. Netty's decoder (netty/netty#17383, open in 4.2.21) keeps the CR of the CRLF
 * before a delimiter in the part that ends there when a chunk ends just after that CR: the part, a
 * file or a form field, gains a byte that was not sent. A chunk is whatever one read of the socket or
 * one HTTP chunk brought, so any client meets it by chance. Here a chunk's trailing CR is held back
 * and goes at the head of the next one (a body always has a last chunk, which is passed on whole):
 * the same bytes in the same order, only where the chunks end differs. One per HTTP/1 connection,
 * just before Vert.x's own handler (after an inflater, so on the bytes the decoder gets).
 */
final class CrHeldBack extends ChannelInboundHandlerAdapter {

    static final String NAME = "trisync.cr-held-back";

    private static final byte CR = '\r';

    /** A CR was taken off the end of the chunk before: it goes at the head of the next. */
    private boolean held;

    /** Puts one in front of {@code connection}'s Vert.x handler (an HTTP/1 connection's; others are left alone). */
    static void install(HttpConnection connection) {
        BeforeVertx.install(connection, NAME, CrHeldBack::new);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpContent content)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!content.decoderResult().isSuccess()) {
            // A broken body: what was held goes first, the failure as it came.
            releaseHeld(ctx);
            ctx.fireChannelRead(msg);
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (held) {
            held = false;
            ByteBuf joined = ctx.alloc()
                    .buffer(content.content().readableBytes() + 1)
                    .writeByte(CR)
                    .writeBytes(content.content());
            HttpContent replaced = last
                    ? new DefaultLastHttpContent(joined, ((LastHttpContent) content).trailingHeaders())
                    : new DefaultHttpContent(joined);
            content.release();
            content = replaced;
        }
        ByteBuf bytes = content.content();
        if (!last && bytes.isReadable() && bytes.getByte(bytes.writerIndex() - 1) == CR) {
            bytes.writerIndex(bytes.writerIndex() - 1);
            held = true;
            if (!bytes.isReadable()) {
                content.release();
                return;
            }
        }
        ctx.fireChannelRead(content);
    }

    /** Passes a held CR on as a chunk of its own. */
    private void releaseHeld(ChannelHandlerContext ctx) {
        if (held) {
            held = false;
            ctx.fireChannelRead(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[] {CR})));
        }
    }
}
