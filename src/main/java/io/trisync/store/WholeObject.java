package io.trisync.store;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * A GET's body read whole into one array sized from the response's Content-Length, the bytes copied
 * into it once as they arrive: the SDK's {@code toBytes()} collects them in a growing stream (up to
 * half as much again as the object, then its copy). A body longer or shorter than announced is read
 * whole all the same, in an array of its true length.
 */
final class WholeObject implements AsyncResponseTransformer<GetObjectResponse, WholeObject.Read> {

    /** The response and the bytes of its body, the array the caller's alone. */
    record Read(GetObjectResponse response, byte[] bytes) {}

    private static final int UNKNOWN_LENGTH = 64 * 1024;

    private volatile CompletableFuture<Read> result;
    private volatile GetObjectResponse response;

    @Override
    public CompletableFuture<Read> prepare() {
        // Called again for each retry of the request: each attempt reads into its own array.
        result = new CompletableFuture<>();
        return result;
    }

    @Override
    public void onResponse(GetObjectResponse response) {
        this.response = response;
    }

    @Override
    public void onStream(SdkPublisher<ByteBuffer> publisher) {
        Long length = response.contentLength();
        int expected = length == null || length < 0 ? UNKNOWN_LENGTH : (int) Math.min(length, Integer.MAX_VALUE - 8);
        publisher.subscribe(new Collector(response, new byte[expected], result));
    }

    @Override
    public void exceptionOccurred(Throwable error) {
        CompletableFuture<Read> current = result;
        if (current != null) {
            current.completeExceptionally(error);
        }
    }

    private static final class Collector implements Subscriber<ByteBuffer> {

        private final GetObjectResponse response;
        private final CompletableFuture<Read> result;
        private byte[] bytes;
        private int filled;

        Collector(GetObjectResponse response, byte[] bytes, CompletableFuture<Read> result) {
            this.response = response;
            this.bytes = bytes;
            this.result = result;
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuffer piece) {
            int n = piece.remaining();
            if (n > bytes.length - filled) {
                bytes = Arrays.copyOf(bytes, Math.max(filled + n, bytes.length + (bytes.length >> 1)));
            }
            piece.get(bytes, filled, n);
            filled += n;
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(new Read(response, filled == bytes.length ? bytes : Arrays.copyOf(bytes, filled)));
        }
    }
}
