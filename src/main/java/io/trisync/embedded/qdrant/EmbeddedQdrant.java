package io.trisync.embedded.qdrant;

import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process Qdrant gRPC server for the part of Qdrant's API that trisync uses, answering the
 * official clients over the real protocol on 127.0.0.1. Search is exact (brute force): linear in the
 * points that pass the filter. With a data folder every write is logged before it is acknowledged
 * and replayed at start.
 */
public final class EmbeddedQdrant implements AutoCloseable {

    /** The version reported by the health check: the client library version this server follows. */
    public static final String VERSION = "1.18.0";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedQdrant.class);
    private static final Metadata.Key<String> API_KEY = Metadata.Key.of("api-key", Metadata.ASCII_STRING_MARSHALLER);

    private final Server server;
    private final CollectionRegistry registry;

    private EmbeddedQdrant(Server server, CollectionRegistry registry) {
        this.server = server;
        this.registry = registry;
    }

    /**
     * Starts the server on 127.0.0.1:{@code port} (0 picks a free port).
     *
     * @param dataDir where collections persist, or null to keep them in memory
     * @param apiKey the key clients must send in the {@code api-key} header, or blank for none
     */
    public static EmbeddedQdrant start(int port, Path dataDir, String apiKey) throws IOException {
        CollectionRegistry registry = new CollectionRegistry(dataDir);
        ServerInterceptor auth = apiKeyCheck(apiKey);
        Server server = NettyServerBuilder.forAddress(
                        new InetSocketAddress("127.0.0.1", port), InsecureServerCredentials.create())
                .maxInboundMessageSize(64 * 1024 * 1024)
                .addService(ServerInterceptors.intercept(new CollectionsService(registry), auth))
                .addService(ServerInterceptors.intercept(new PointsService(registry), auth))
                .addService(ServerInterceptors.intercept(new HealthService(), auth))
                .build()
                .start();
        LOG.info(
                "Embedded Qdrant gRPC server listening on 127.0.0.1:{} ({})",
                server.getPort(),
                dataDir == null ? "in memory" : "persisting under " + dataDir);
        return new EmbeddedQdrant(server, registry);
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        registry.close();
    }

    private static ServerInterceptor apiKeyCheck(String apiKey) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                if (apiKey != null && !apiKey.isBlank() && !apiKey.equals(headers.get(API_KEY))) {
                    call.close(Status.UNAUTHENTICATED.withDescription("Invalid api-key"), new Metadata());
                    return new ServerCall.Listener<>() {};
                }
                return next.startCall(call, headers);
            }
        };
    }

    /** Qdrant's own health check, which the Java client calls when it is built. */
    private static final class HealthService extends QdrantGrpc.QdrantImplBase {
        @Override
        public void healthCheck(HealthCheckRequest request, StreamObserver<HealthCheckReply> out) {
            out.onNext(HealthCheckReply.newBuilder()
                    .setTitle("qdrant - vector search engine (trisync embedded)")
                    .setVersion(VERSION)
                    .build());
            out.onCompleted();
        }
    }
}
