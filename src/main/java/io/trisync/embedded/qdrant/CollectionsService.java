package io.trisync.embedded.qdrant;

import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections.CollectionConfig;
import io.qdrant.client.grpc.Collections.CollectionDescription;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CollectionParams;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.GetCollectionInfoResponse;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsResponse;
import io.qdrant.client.grpc.Collections.OptimizerStatus;
import io.qdrant.client.grpc.Collections.PayloadSchemaInfo;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.CollectionsGrpc;

/** Qdrant's {@code Collections} service: create, get info, list, delete, exists. Other calls: UNIMPLEMENTED. */
final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {

    private final CollectionRegistry registry;

    CollectionsService(CollectionRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void create(CreateCollection request, StreamObserver<CollectionOperationResponse> out) {
        Calls.answer(out, started -> {
            registry.create(request);
            return CollectionOperationResponse.newBuilder()
                    .setResult(true)
                    .setTime(Calls.seconds(started))
                    .build();
        });
    }

    @Override
    public void get(GetCollectionInfoRequest request, StreamObserver<GetCollectionInfoResponse> out) {
        Calls.answer(out, started -> {
            QdrantCollection c = registry.get(request.getCollectionName());
            long size = c.size();
            CollectionInfo.Builder info = CollectionInfo.newBuilder()
                    .setStatus(CollectionStatus.Green)
                    .setOptimizerStatus(OptimizerStatus.newBuilder().setOk(true))
                    .setSegmentsCount(1)
                    .setPointsCount(size)
                    .setIndexedVectorsCount(0)
                    .setConfig(CollectionConfig.newBuilder()
                            .setParams(CollectionParams.newBuilder()
                                    .setShardNumber(1)
                                    .setReplicationFactor(1)
                                    .setWriteConsistencyFactor(1)
                                    .setVectorsConfig(VectorsConfig.newBuilder().setParams(c.params()))));
            c.payloadIndexes()
                    .forEach((field, type) -> info.putPayloadSchema(
                            field,
                            PayloadSchemaInfo.newBuilder()
                                    .setDataType(PayloadSchemaType.valueOf(type))
                                    .build()));
            return GetCollectionInfoResponse.newBuilder()
                    .setResult(info)
                    .setTime(Calls.seconds(started))
                    .build();
        });
    }

    @Override
    public void list(ListCollectionsRequest request, StreamObserver<ListCollectionsResponse> out) {
        Calls.answer(out, started -> {
            ListCollectionsResponse.Builder response = ListCollectionsResponse.newBuilder();
            registry.names()
                    .forEach(n -> response.addCollections(
                            CollectionDescription.newBuilder().setName(n)));
            return response.setTime(Calls.seconds(started)).build();
        });
    }

    @Override
    public void delete(DeleteCollection request, StreamObserver<CollectionOperationResponse> out) {
        Calls.answer(out, started -> CollectionOperationResponse.newBuilder()
                .setResult(registry.delete(request.getCollectionName()))
                .setTime(Calls.seconds(started))
                .build());
    }

    @Override
    public void collectionExists(CollectionExistsRequest request, StreamObserver<CollectionExistsResponse> out) {
        Calls.answer(out, started -> CollectionExistsResponse.newBuilder()
                .setResult(CollectionExists.newBuilder().setExists(registry.exists(request.getCollectionName())))
                .setTime(Calls.seconds(started))
                .build());
    }
}
