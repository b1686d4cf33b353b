package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.CountPoints;
import io.qdrant.client.grpc.Points.CountResponse;
import io.qdrant.client.grpc.Points.CountResult;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeleteFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.GetPoints;
import io.qdrant.client.grpc.Points.GetResponse;
import io.qdrant.client.grpc.Points.PointsOperationResponse;
import io.qdrant.client.grpc.Points.Query;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.QueryResponse;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.SearchResponse;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.VectorInput;
import io.qdrant.client.grpc.Points.VectorOutput;
import io.qdrant.client.grpc.Points.VectorsOutput;
import io.qdrant.client.grpc.Points.WithPayloadSelector;
import io.qdrant.client.grpc.Points.WithVectorsSelector;
import io.qdrant.client.grpc.PointsGrpc;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Qdrant's {@code Points} service: upsert, delete (ids or filter), get, scroll, count, search,
 * query (nearest vector, or id order without a query) and payload indexes. Other calls answer
 * UNIMPLEMENTED, never a wrong answer.
 */
final class PointsService extends PointsGrpc.PointsImplBase {

    private static final int DEFAULT_SCROLL_LIMIT = 10;
    private static final int DEFAULT_QUERY_LIMIT = 10;

    private final CollectionRegistry registry;
    private final AtomicLong operationIds = new AtomicLong();

    PointsService(CollectionRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void upsert(UpsertPoints request, StreamObserver<PointsOperationResponse> out) {
        Calls.answer(out, started -> {
            if (request.hasUpdateFilter() || request.hasUpdateMode()) {
                throw PayloadFilter.unsupported("conditional upserts (update_filter, update_mode)");
            }
            registry.get(request.getCollectionName()).upsert(request.getPointsList());
            return updated(started, request.getWait());
        });
    }

    @Override
    public void delete(DeletePoints request, StreamObserver<PointsOperationResponse> out) {
        Calls.answer(out, started -> {
            QdrantCollection c = registry.get(request.getCollectionName());
            switch (request.getPoints().getPointsSelectorOneOfCase()) {
                case POINTS -> c.delete(request.getPoints().getPoints().getIdsList().stream()
                        .map(PointKey::of)
                        .toList());
                case FILTER -> c.deleteMatching(request.getPoints().getFilter());
                default -> throw Status.INVALID_ARGUMENT
                        .withDescription("Wrong input: no points selector")
                        .asRuntimeException();
            }
            return updated(started, request.getWait());
        });
    }

    @Override
    public void get(GetPoints request, StreamObserver<GetResponse> out) {
        Calls.answer(out, started -> {
            QdrantCollection c = registry.get(request.getCollectionName());
            GetResponse.Builder response = GetResponse.newBuilder();
            for (StoredPoint p :
                    c.get(request.getIdsList().stream().map(PointKey::of).toList())) {
                response.addResult(
                        retrieved(p, request.getWithPayload(), request.hasWithPayload(), request.getWithVectors()));
            }
            return response.setTime(Calls.seconds(started)).build();
        });
    }

    @Override
    public void scroll(ScrollPoints request, StreamObserver<ScrollResponse> out) {
        Calls.answer(out, started -> {
            if (request.hasOrderBy()) {
                throw PayloadFilter.unsupported("scroll with order_by");
            }
            QdrantCollection c = registry.get(request.getCollectionName());
            int limit = request.hasLimit() ? request.getLimit() : DEFAULT_SCROLL_LIMIT;
            PointKey from = request.hasOffset() ? PointKey.of(request.getOffset()) : null;
            List<StoredPoint> page = c.scroll(filterOf(request.hasFilter(), request.getFilter()), from, limit, 0);
            ScrollResponse.Builder response = ScrollResponse.newBuilder();
            for (int i = 0; i < Math.min(limit, page.size()); i++) {
                response.addResult(retrieved(
                        page.get(i), request.getWithPayload(), request.hasWithPayload(), request.getWithVectors()));
            }
            if (page.size() > limit) {
                response.setNextPageOffset(page.get(limit).id().toProto());
            }
            return response.setTime(Calls.seconds(started)).build();
        });
    }

    @Override
    public void count(CountPoints request, StreamObserver<CountResponse> out) {
        Calls.answer(out, started -> {
            QdrantCollection c = registry.get(request.getCollectionName());
            long n = c.count(filterOf(request.hasFilter(), request.getFilter()));
            return CountResponse.newBuilder()
                    .setResult(CountResult.newBuilder().setCount(n))
                    .setTime(Calls.seconds(started))
                    .build();
        });
    }

    @Override
    public void search(SearchPoints request, StreamObserver<SearchResponse> out) {
        Calls.answer(out, started -> {
            if (request.hasVectorName() && !request.getVectorName().isEmpty()) {
                throw PayloadFilter.unsupported("named vectors");
            }
            QdrantCollection c = registry.get(request.getCollectionName());
            float[] query = toArray(request.getVectorList());
            List<QdrantCollection.Hit> hits = c.search(
                    query,
                    filterOf(request.hasFilter(), request.getFilter()),
                    (int) request.getLimit(),
                    (int) request.getOffset(),
                    request.hasScoreThreshold() ? request.getScoreThreshold() : null);
            SearchResponse.Builder response = SearchResponse.newBuilder();
            hits.forEach(h -> response.addResult(scored(h, request.getWithPayload(), request.getWithVectors())));
            return response.setTime(Calls.seconds(started)).build();
        });
    }

    @Override
    public void query(QueryPoints request, StreamObserver<QueryResponse> out) {
        Calls.answer(out, started -> {
            if (request.getPrefetchCount() > 0
                    || (request.hasUsing() && !request.getUsing().isEmpty())
                    || request.hasLookupFrom()) {
                throw PayloadFilter.unsupported("prefetch, named vectors and lookup_from in queries");
            }
            QdrantCollection c = registry.get(request.getCollectionName());
            Filter filter = filterOf(request.hasFilter(), request.getFilter());
            int limit = request.hasLimit() ? (int) request.getLimit() : DEFAULT_QUERY_LIMIT;
            int offset = (int) request.getOffset();
            QueryResponse.Builder response = QueryResponse.newBuilder();
            if (!request.hasQuery()) {
                List<StoredPoint> page = c.scroll(filter, null, limit, offset);
                page.stream()
                        .limit(limit)
                        .forEach(p -> response.addResult(scored(
                                new QdrantCollection.Hit(p, 0f), request.getWithPayload(), request.getWithVectors())));
            } else {
                float[] vector = nearestVector(c, request.getQuery());
                Float threshold = request.hasScoreThreshold() ? request.getScoreThreshold() : null;
                c.search(vector, filter, limit, offset, threshold)
                        .forEach(
                                h -> response.addResult(scored(h, request.getWithPayload(), request.getWithVectors())));
            }
            return response.setTime(Calls.seconds(started)).build();
        });
    }

    @Override
    public void createFieldIndex(CreateFieldIndexCollection request, StreamObserver<PointsOperationResponse> out) {
        Calls.answer(out, started -> {
            QdrantCollection c = registry.get(request.getCollectionName());
            PayloadSchemaType type =
                    PayloadSchemaType.forNumber(request.getFieldType().getNumber() + 1);
            c.createIndex(request.getFieldName(), type == null ? PayloadSchemaType.Keyword.name() : type.name());
            return updated(started, request.getWait());
        });
    }

    @Override
    public void deleteFieldIndex(DeleteFieldIndexCollection request, StreamObserver<PointsOperationResponse> out) {
        Calls.answer(out, started -> {
            registry.get(request.getCollectionName()).dropIndex(request.getFieldName());
            return updated(started, request.getWait());
        });
    }

    private float[] nearestVector(QdrantCollection c, Query query) {
        if (query.getVariantCase() != Query.VariantCase.NEAREST) {
            throw PayloadFilter.unsupported("query " + query.getVariantCase() + " (only nearest)");
        }
        VectorInput input = query.getNearest();
        return switch (input.getVariantCase()) {
            case DENSE -> toArray(input.getDense().getDataList());
            case ID -> {
                List<StoredPoint> found = c.get(List.of(PointKey.of(input.getId())));
                if (found.isEmpty()) {
                    throw Status.NOT_FOUND
                            .withDescription("Not found: No point with id " + input.getId())
                            .asRuntimeException();
                }
                yield found.get(0).vector();
            }
            default -> throw PayloadFilter.unsupported(
                    "nearest " + input.getVariantCase() + " (only dense vectors and ids)");
        };
    }

    private PointsOperationResponse updated(long started, boolean wait) {
        return PointsOperationResponse.newBuilder()
                .setResult(UpdateResult.newBuilder()
                        .setOperationId(operationIds.incrementAndGet())
                        .setStatus(wait ? UpdateStatus.Completed : UpdateStatus.Acknowledged))
                .setTime(Calls.seconds(started))
                .build();
    }

    private static Filter filterOf(boolean present, Filter filter) {
        return present ? filter : null;
    }

    private static RetrievedPoint retrieved(
            StoredPoint p, WithPayloadSelector payload, boolean payloadGiven, WithVectorsSelector vectors) {
        RetrievedPoint.Builder b = RetrievedPoint.newBuilder().setId(p.id().toProto());
        b.putAllPayload(selectPayload(p.payload(), payloadGiven ? payload : null, true));
        if (wantsVectors(vectors)) {
            b.setVectors(vectorsOut(p.vector()));
        }
        return b.build();
    }

    private static ScoredPoint scored(
            QdrantCollection.Hit h, WithPayloadSelector payload, WithVectorsSelector vectors) {
        ScoredPoint.Builder b =
                ScoredPoint.newBuilder().setId(h.point().id().toProto()).setScore(h.score());
        b.putAllPayload(selectPayload(h.point().payload(), payload, false));
        if (wantsVectors(vectors)) {
            b.setVectors(vectorsOut(h.point().vector()));
        }
        return b.build();
    }

    /** Qdrant's payload selection: all, none, only the included keys, or all but the excluded ones. */
    static Map<String, Value> selectPayload(
            Map<String, Value> payload, WithPayloadSelector selector, boolean byDefault) {
        if (selector == null
                || selector.getSelectorOptionsCase()
                        == WithPayloadSelector.SelectorOptionsCase.SELECTOROPTIONS_NOT_SET) {
            return byDefault ? payload : Map.of();
        }
        return switch (selector.getSelectorOptionsCase()) {
            case ENABLE -> selector.getEnable() ? payload : Map.of();
            case INCLUDE -> keep(payload, new HashSet<>(selector.getInclude().getFieldsList()), true);
            case EXCLUDE -> keep(payload, new HashSet<>(selector.getExclude().getFieldsList()), false);
            default -> payload;
        };
    }

    private static Map<String, Value> keep(Map<String, Value> payload, Set<String> keys, boolean inside) {
        return payload.entrySet().stream()
                .filter(e -> keys.contains(e.getKey()) == inside)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static boolean wantsVectors(WithVectorsSelector selector) {
        return switch (selector.getSelectorOptionsCase()) {
            case ENABLE -> selector.getEnable();
            case INCLUDE -> selector.getInclude().getNamesCount() > 0;
            default -> false;
        };
    }

    private static VectorsOutput vectorsOut(float[] vector) {
        DenseVector.Builder dense = DenseVector.newBuilder();
        for (float x : vector) {
            dense.addData(x);
        }
        return VectorsOutput.newBuilder()
                .setVector(VectorOutput.newBuilder().setDense(dense))
                .build();
    }

    private static float[] toArray(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
