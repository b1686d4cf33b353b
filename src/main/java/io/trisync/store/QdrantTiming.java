package io.trisync.store;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.trisync.metrics.Metrics;

/** Times every gRPC call to Qdrant, by its method ({@code Upsert}, {@code Search}, {@code Scroll}, …). */
final class QdrantTiming implements ClientInterceptor {

    private final Metrics metrics;

    QdrantTiming(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        String operation = method.getBareMethodName() == null ? method.getFullMethodName() : method.getBareMethodName();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<A> listener, Metadata headers) {
                long started = System.nanoTime();
                super.start(
                        new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                            @Override
                            public void onClose(Status status, Metadata trailers) {
                                metrics.storeRequest("qdrant", operation, System.nanoTime() - started, !status.isOk());
                                super.onClose(status, trailers);
                            }
                        },
                        headers);
            }
        };
    }
}
