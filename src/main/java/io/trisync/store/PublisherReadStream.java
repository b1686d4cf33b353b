package io.trisync.store;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * A reactive-streams {@link Publisher} of bytes (the AWS SDK's response body) as a Vert.x {@link
 * ReadStream}: every callback runs on the given context, and the publisher is asked for more only
 * as the reader demands it, so a slow HTTP client slows the S3 read instead of filling memory.
 */
final class PublisherReadStream implements ReadStream<Buffer>, Subscriber<ByteBuffer> {

    private final Context context;
    private final Deque<Buffer> pending = new ArrayDeque<>();
    private Subscription subscription;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;
    private long demand = Long.MAX_VALUE;
    private boolean ended;
    private boolean requested;
    private boolean endDelivered;

    PublisherReadStream(Context context, Publisher<ByteBuffer> publisher) {
        this.context = context;
        publisher.subscribe(this);
    }

    @Override
    public void onSubscribe(Subscription s) {
        context.runOnContext(v -> {
            subscription = s;
            requestMore();
        });
    }

    @Override
    public void onNext(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        context.runOnContext(v -> {
            requested = false;
            pending.add(Buffer.buffer(copy));
            drain();
        });
    }

    @Override
    public void onError(Throwable error) {
        context.runOnContext(v -> {
            if (exceptionHandler != null) {
                exceptionHandler.handle(error);
            }
        });
    }

    @Override
    public void onComplete() {
        context.runOnContext(v -> {
            ended = true;
            drain();
        });
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        this.exceptionHandler = handler;
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        this.handler = handler;
        if (handler != null) {
            drain();
        }
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        demand = 0;
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        return fetch(Long.MAX_VALUE);
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        demand = Long.MAX_VALUE - demand <= amount ? Long.MAX_VALUE : demand + amount;
        drain();
        requestMore();
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        this.endHandler = endHandler;
        return this;
    }

    private void drain() {
        while (demand > 0 && handler != null && !pending.isEmpty()) {
            if (demand != Long.MAX_VALUE) {
                demand--;
            }
            handler.handle(pending.poll());
        }
        if (ended && pending.isEmpty() && !endDelivered && handler != null) {
            endDelivered = true;
            if (endHandler != null) {
                endHandler.handle(null);
            }
        }
        requestMore();
    }

    private void requestMore() {
        if (subscription != null && demand > 0 && pending.isEmpty() && !ended && !requested) {
            requested = true;
            subscription.request(1);
        }
    }
}
