package io.trisync.embedded;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * One connection's replies held back until the journal write they wait for ({@link DurableH2Backend}):
 * an outbound handler first in the connection's pipeline. Runs on the connection's event loop;
 * replies leave in the order they were written.
 */
final class ParkedReplies extends ChannelDuplexHandler {

    /** The ticket a connection's next reply must wait for, set while its command is handled. */
    static final AttributeKey<Long> AWAITS = AttributeKey.valueOf("trisync.awaitsJournal");

    private record Reply(long ticket, Object message, ChannelPromise promise) {}

    private final ArrayDeque<Reply> queue = new ArrayDeque<>();
    /** The highest ticket whose command is in the journal's file. */
    private final LongSupplier durable;
    /** Every connection with replies parked, this one among them while it has any. */
    private final Set<ParkedReplies> parked;

    private ChannelHandlerContext context;

    ParkedReplies(LongSupplier durable, Set<ParkedReplies> parked) {
        this.durable = durable;
        this.parked = parked;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Long ticket = ctx.channel().attr(AWAITS).getAndSet(null);
        long awaits = ticket == null ? 0 : ticket;
        if (queue.isEmpty() && awaits <= durable.getAsLong()) {
            ctx.write(msg, promise);
            return;
        }
        queue.add(new Reply(awaits, msg, promise));
        parked.add(this);
        // A commit that ended between the check above and joining the parked set released nobody.
        release();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (queue.isEmpty()) {
            ctx.flush();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        parked.remove(this);
        for (Reply reply : queue) {
            ReferenceCountUtil.release(reply.message());
            reply.promise().tryFailure(new ClosedChannelException());
        }
        queue.clear();
        super.channelInactive(ctx);
    }

    void releaseLater() {
        try {
            context.executor().execute(this::release);
        } catch (RejectedExecutionException e) {
            // The server is shutting down: the connection goes, its replies with it.
            parked.remove(this);
        }
    }

    void fail() {
        try {
            context.executor().execute(() -> context.channel().close());
        } catch (RejectedExecutionException e) {
            parked.remove(this);
        }
    }

    private void release() {
        boolean wrote = false;
        while (!queue.isEmpty() && queue.peek().ticket() <= durable.getAsLong()) {
            Reply reply = queue.poll();
            context.write(reply.message(), reply.promise());
            wrote = true;
        }
        if (queue.isEmpty()) {
            parked.remove(this);
        }
        if (wrote) {
            context.flush();
        }
    }
}
