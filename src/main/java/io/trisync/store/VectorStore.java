package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * Chunk vectors in one Qdrant collection. Every method's future fails with {@link
 * Failure.Unavailable} when Qdrant cannot be reached.
 */
public interface VectorStore {

    /** A search hit: the point (without vector) and its similarity score. */
    record Scored(ChunkPoint point, float score) {}

    /** Creates the collection (cosine, configured size) and its payload indexes when missing. */
    Future<Void> init();

    /** Inserts or replaces points by id; completes when Qdrant has applied them. */
    Future<Void> upsert(List<ChunkPoint> points);

    /** Deletes every point of one file, found by payload filter (never by guessing ids). */
    Future<Void> deleteFile(String tenantId, String fileId);

    /**
     * Deletes the points of one file made from the content {@code contentSha256} only (found by
     * payload filter): those of another version, which share their ids, stay.
     */
    Future<Void> deleteContent(String tenantId, String fileId, String contentSha256);

    /** Deletes every point of the tenant (an erasure). */
    Future<Void> deleteTenant(String tenantId);

    /** Deletes points by id; absent ids are ignored. */
    Future<Void> delete(List<UUID> ids);

    /**
     * Up to {@code limit} points of a tenant (one partition when {@code partition} is not null) in id
     * order, from point id {@code offset} (null: the start), with only the payload fields trisync
     * reads and no vectors. The page's {@code next} is the following page's offset; its {@code
     * foreign} counts the points of the range left out as not this service's ({@code QdrantPayloads}).
     */
    Future<Page<ChunkPoint>> scroll(String tenantId, Integer partition, String offset, int limit);

    /** Every point of one file (a file has a few hundred at most), without vectors, in id order. */
    Future<List<ChunkPoint>> pointsOf(String tenantId, String fileId);

    /**
     * Tenants that have points here and are not among {@code known}, at most {@code max} of them: for
     * the all-tenant scans, which would otherwise never see a tenant whose only traces are points (its
     * records and blobs removed). One scroll of a single point per tenant found, plus one that finds
     * none, each excluding the tenants known so far by a payload filter.
     */
    Future<List<String>> tenantsBesides(Collection<String> known, int max);

    /** Points with these ids that exist, with their vectors. */
    Future<List<ChunkPoint>> get(List<UUID> ids);

    /** Exact count of a tenant's points, of one file when {@code fileId} is not null. */
    Future<Long> count(String tenantId, String fileId);

    /** As {@link #search(String, float[], int)} in {@code space}'s collection (null: the serving one). */
    default Future<List<Scored>> search(VectorSpaces.Space space, String tenantId, float[] vector, int k) {
        return search(tenantId, vector, k);
    }

    /** Deletes these points by id (each from the collection of its copy, where there are several). */
    default Future<Void> deletePoints(List<ChunkPoint> points) {
        return delete(points.stream().map(ChunkPoint::id).toList());
    }

    /** The {@code k} points of a tenant most similar (cosine) to {@code vector}, best first. */
    Future<List<Scored>> search(String tenantId, float[] vector, int k);

    /**
     * While the embedding model changes, the collection that still serves search and its model
     * (its points are a retiring copy for files already re-embedded); null otherwise.
     */
    default VectorSpaces.Space retiring() {
        return null;
    }

    /**
     * Why this node's model no longer fits the collections (configured side by side, its model neither
     * serves nor is being filled: a node left on an old model after a switch or an abandoned change,
     * whose uploads are refused), or null when it fits.
     */
    default String outdatedModel() {
        return null;
    }

    /** The collections and their models (the pointer); null for a store of one fixed collection. */
    default VectorSpaces spaces() {
        return null;
    }

    /** Reads the pointer again (another node may have switched collections); the spaces after it. */
    default Future<VectorSpaces> refresh() {
        return Future.succeededFuture(spaces());
    }

    /** Makes the collection being filled by a change of model serve; the spaces after it. */
    default Future<VectorSpaces> switchToTarget() {
        return Future.succeededFuture(spaces());
    }

    /**
     * Deletes a collection that neither serves nor is being filled; {@link Failure.Conflict} for
     * those, {@link Failure.NotFound} when there is none of that name.
     */
    default Future<Void> purge(String collection) {
        return Future.failedFuture(new Failure.Conflict("this store keeps one collection"));
    }

    /** Completes when Qdrant answers its health check. */
    Future<Void> ping();

    /** Closes the client. */
    Future<Void> close();
}
