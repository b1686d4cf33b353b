package io.trisync.embedded.qdrant;

import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.VectorsFactory.vectors;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.trisync.testsupport.TestStack;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The embedded Qdrant server of the client tests and a client of it, started once per JVM and closed
 * when it exits (each test makes its own collections), with the calls the tests share.
 */
final class QdrantFixture {

    static EmbeddedQdrant server;
    static QdrantClient client;

    private QdrantFixture() {}

    /** Starts the server and the client on first use in this JVM. */
    static synchronized void start() throws Exception {
        if (server != null) {
            return;
        }
        server = EmbeddedQdrant.start(0, null, "");
        client = new QdrantClient(
                QdrantGrpcClient.newBuilder("127.0.0.1", server.port(), false).build());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.close();
            server.close();
        }));
    }

    static String collection(int size, Distance distance) throws Exception {
        String name = TestStack.unique("c");
        get(client.createCollectionAsync(
                name,
                VectorParams.newBuilder().setSize(size).setDistance(distance).build()));
        return name;
    }

    static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    static PointStruct point(
            PointId id, Map<String, io.qdrant.client.grpc.JsonWithInt.Value> payload, float... vector) {
        return PointStruct.newBuilder()
                .setId(id)
                .setVectors(vectors(vector))
                .putAllPayload(payload)
                .build();
    }

    static Status.Code codeOf(Throwable t) {
        return ((StatusRuntimeException) t).getStatus().getCode();
    }
}
