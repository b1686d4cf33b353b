package io.trisync.store;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@link VectorStore}: Qdrant collections as {@link VectorSpaces} says (the pointer in
 * MongoDB {@code vector_spaces}, {@code _id} = {@code QDRANT_COLLECTION}, the name the deployment knows
 * its vectors by, as an alias would be). Normally one collection. When the configured embedding model
 * is not the serving collection's (another dimension, or the same one with {@code
 * EMBEDDING_MODEL_CHANGE=side_by_side}), {@link #init} starts a change of model: a target collection
 * ({@link VectorSpacesPointer#targetCollection}) is made beside the serving one, and then
 * <ul>
 *   <li>points of the configured model are written to the target, any others to the serving one;
 *   <li>deletes go to both; listings and counts read both (a scan takes from them the points of the
 *       model its record names: the target's copy for a file of its model, the serving one's for any other);
 *   <li>search reads the serving collection only, with vectors of the serving model;
 * </ul>
 * until {@link #switchToTarget} (a re-index, once every file is re-embedded) makes the target serve.
 * Every node reads the pointer again every few seconds ({@link #refresh}).
 */
public final class SpacedVectorStore implements VectorStore {

    private static final Logger LOG = LoggerFactory.getLogger(SpacedVectorStore.class);
    /** Between a listing offset's collection and its point id. */
    private static final String CURSOR = "|";

    private final QdrantVectorStore client;
    private final VectorSpacesPointer pointer;
    private final VectorSpaces.Space configured;
    /** {@code EMBEDDING_MODEL_CHANGE} is {@code side_by_side}. */
    private final boolean sideBySide;

    /** The collections now: serving, target (null when no change of model runs), retired ones. */
    private record View(
            VectorSpaces spaces,
            QdrantVectorStore serving,
            QdrantVectorStore target,
            List<QdrantVectorStore> retired) {}

    private volatile View view;

    public SpacedVectorStore(QdrantVectorStore client, MongoClient mongo, TrisyncConfig config) {
        this.client = client;
        TrisyncConfig.EmbeddingConfig e = config.embedding();
        this.configured = new VectorSpaces.Space(
                config.qdrant().collection(),
                e.modelName(),
                config.qdrant().vectorSize(),
                e.provider(),
                e.local() ? null : e.url());
        this.view = new View(new VectorSpaces(configured, null, List.of(), 0), client, null, List.of());
        this.sideBySide = e.sideBySide();
        this.pointer = new VectorSpacesPointer(mongo, client, configured, sideBySide);
    }

    @Override
    public VectorSpaces spaces() {
        return view.spaces();
    }

    /**
     * Reads the pointer (making it on first start from the collection Qdrant holds), starts a change
     * of model when the configured one is neither the serving nor the target collection's, and
     * makes the collections and their payload indexes where missing. It writes the pointer only when
     * that changes it, conditioned on the generation it read (another node's start or switch in
     * between makes it read and plan again), so a start never undoes another node's change.
     */
    @Override
    public Future<Void> init() {
        return pointer.settle(5).compose(spaces -> {
            View next = viewOf(spaces);
            return next.serving()
                    .init()
                    .compose(v -> next.target() == null
                            ? Future.succeededFuture()
                            : next.target().init())
                    .onSuccess(v -> {
                        adopt(next);
                        if (spaces.migrating()) {
                            LOG.warn(
                                    "Embedding model change under way: collection {} ({} dims, {}) serves"
                                            + " search; {} ({} dims, {}) is filled by re-index operations and"
                                            + " takes over once every file is re-embedded",
                                    spaces.serving().collection(),
                                    spaces.serving().dims(),
                                    spaces.serving().model(),
                                    spaces.target().collection(),
                                    spaces.target().dims(),
                                    spaces.target().model());
                        }
                    });
        });
    }

    private View viewOf(VectorSpaces spaces) {
        QdrantVectorStore serving =
                client.sibling(spaces.serving().collection(), spaces.serving().dims());
        QdrantVectorStore target = spaces.migrating()
                ? client.sibling(spaces.target().collection(), spaces.target().dims())
                : null;
        List<QdrantVectorStore> retired = spaces.retired().stream()
                .map(r -> client.sibling(r.collection(), r.dims()))
                .toList();
        return new View(spaces, serving, target, retired);
    }

    /** Takes {@code next} unless the view already holds a later generation (refreshes may answer out of order). */
    private synchronized void adopt(View next) {
        if (next.spaces().generation() >= view.spaces().generation() || view.serving() == client) {
            view = next;
        }
    }

    /** Reads the pointer again (another node may have switched); the view follows it. */
    @Override
    public Future<VectorSpaces> refresh() {
        return pointer.read().map(spaces -> {
            if (spaces != null && spaces.generation() > view.spaces().generation()) {
                LOG.info(
                        "Vector collections now: {} serving, {} filling",
                        spaces.serving().collection(),
                        spaces.migrating() ? spaces.target().collection() : "none");
                adopt(viewOf(spaces));
            }
            return view.spaces();
        });
    }

    /**
     * Makes the target collection serve, if this is still the change under way (a write conditioned
     * on the generation read, so of nodes switching at once one does it). Completes with the spaces
     * after it.
     */
    @Override
    public Future<VectorSpaces> switchToTarget() {
        return pointer.read().compose(now -> {
            if (now == null || !now.migrating()) {
                return Future.succeededFuture(now);
            }
            VectorSpaces next = now.switched();
            return pointer.replace(now, next)
                    .compose(won -> refresh())
                    .onSuccess(spaces -> LOG.info(
                            "Collection {} serves search now", spaces.serving().collection()));
        });
    }

    /**
     * Deletes a retired collection (one a change of model left) and forgets it, or abandons the change
     * under way by deleting the collection it fills (its vectors are derived: files already made by
     * the new model are then re-embedded by a repair or re-index with the serving one); {@link
     * Failure.Conflict} for the serving one, {@link Failure.NotFound} for any other name.
     *
     * <p>A collection is dropped while the pointer still names it, and forgotten only after: should
     * Qdrant fail the drop, or the node be killed before it, the collection stays listed as retired and
     * a purge again ends the work (a drop of a collection already gone counts as done). An abandoned
     * change's collection is retired first, so that nodes stop writing to it before it goes. The other
     * order left a collection that no pointer named, which a later change to its model refused to
     * reuse until it was deleted in Qdrant by hand.
     */
    @Override
    public Future<Void> purge(String collection) {
        return pointer.read().compose(now -> {
            boolean filling = now != null
                    && now.migrating()
                    && collection.equals(now.target().collection());
            if (now == null || !filling && now.retiredCollection(collection) == null) {
                boolean serving = now != null && collection.equals(now.serving().collection());
                return Future.failedFuture(
                        serving
                                ? new Failure.Conflict("collection " + collection + " serves search")
                                : new Failure.NotFound("qdrant", "no retired collection " + collection));
            }
            if (!filling) {
                return dropAndForget(now, collection);
            }
            VectorSpaces abandoned = now.abandoned();
            return replaced(now, abandoned)
                    .compose(v -> dropAndForget(abandoned, collection))
                    .onSuccess(v -> LOG.warn(
                            "The change of model to {} was abandoned: collection {} deleted, {} serves",
                            now.target().model(),
                            collection,
                            now.serving().collection()));
        });
    }

    /** Drops the retired {@code collection} of {@code now}, then forgets it. */
    private Future<Void> dropAndForget(VectorSpaces now, String collection) {
        return client.sibling(collection, 1)
                .drop()
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(e))
                .compose(v -> replaced(now, now.purged(collection)));
    }

    /** Writes {@code next} in place of {@code now}, then reads the pointer again; Conflict when another node wrote it first. */
    private Future<Void> replaced(VectorSpaces now, VectorSpaces next) {
        return pointer.replace(now, next)
                .compose(won -> won
                        ? refresh().<Void>mapEmpty()
                        : Future.failedFuture(
                                new Failure.Conflict("the collection pointer changed meanwhile; try again")));
    }

    @Override
    public VectorSpaces.Space retiring() {
        VectorSpaces spaces = view.spaces();
        return spaces.migrating() ? spaces.serving() : null;
    }

    @Override
    public String outdatedModel() {
        VectorSpaces spaces = view.spaces();
        VectorSpaces.Space next = spaces.target();
        if (!sideBySide
                || spaces.generation() == 0
                || spaces.serving().model().equals(configured.model())
                || next != null && next.model().equals(configured.model())) {
            return null;
        }
        return "this node embeds with " + configured.model() + ", but the collections hold "
                + spaces.serving().model() + (next == null ? "" : " and " + next.model())
                + " now: its uploads are refused; restart it with the model of the serving collection "
                + spaces.serving().collection();
    }

    /**
     * Points of the target's model go to the target while a change runs; all others to the serving
     * collection. A node configured side by side refuses to write points of a model that is neither
     * the serving nor the target one (a node left on an old model after a switch, or after a change
     * was abandoned): in the serving collection they would be compared with queries of another
     * model of the same dimension.
     */
    @Override
    public Future<Void> upsert(List<ChunkPoint> points) {
        View v = view;
        VectorSpaces.Space next = v.spaces().target();
        if (sideBySide && v.serving() != client) {
            for (ChunkPoint p : points) {
                if (!v.spaces().serving().model().equals(p.model())
                        && (next == null || !next.model().equals(p.model()))) {
                    return Future.failedFuture(new Failure.Unavailable(
                            "qdrant",
                            "this node embeds with " + p.model() + ", but the collections hold "
                                    + v.spaces().serving().model()
                                    + (next == null ? "" : " and " + next.model())
                                    + " now: restart it with the model of the serving collection "
                                    + v.spaces().serving().collection(),
                            null));
                }
            }
        }
        if (v.target() == null) {
            return v.serving().upsert(points);
        }
        List<ChunkPoint> target = new ArrayList<>();
        List<ChunkPoint> serving = new ArrayList<>();
        for (ChunkPoint p : points) {
            (next.model().equals(p.model()) ? target : serving).add(p);
        }
        return Future.all(v.target().upsert(target), v.serving().upsert(serving))
                .mapEmpty();
    }

    @Override
    public Future<Void> deleteFile(String tenantId, String fileId) {
        return everywhere(s -> s.deleteFile(tenantId, fileId));
    }

    @Override
    public Future<Void> deleteContent(String tenantId, String fileId, String contentSha256) {
        return everywhere(s -> s.deleteContent(tenantId, fileId, contentSha256));
    }

    @Override
    public Future<Void> deleteTenant(String tenantId) {
        return everywhere(s -> s.deleteTenant(tenantId));
    }

    /** Deletes by id in every collection; see {@link #deletePoints} for points of one copy. */
    @Override
    public Future<Void> delete(List<UUID> ids) {
        return everywhere(s -> s.delete(ids));
    }

    /**
     * Deletes {@code points} each from the collection of its own copy (while a change runs, a point of
     * the target's model from the target, any other from the serving collection, as {@link #upsert}
     * placed them): point ids derive from file and chunk, so a delete by id alone would remove both
     * copies.
     */
    @Override
    public Future<Void> deletePoints(List<ChunkPoint> points) {
        View v = view;
        if (v.target() == null) {
            return everywhere(s -> s.delete(points.stream().map(ChunkPoint::id).toList()));
        }
        String next = v.spaces().target().model();
        List<UUID> old = new ArrayList<>();
        List<UUID> fresh = new ArrayList<>();
        for (ChunkPoint p : points) {
            (next.equals(p.model()) ? fresh : old).add(p.id());
        }
        return Future.all(
                        old.isEmpty() ? Future.succeededFuture() : v.serving().delete(old),
                        fresh.isEmpty() ? Future.succeededFuture() : v.target().delete(fresh))
                .mapEmpty();
    }

    /** A write to the serving, target and retired collections (deletes and erasures leave nothing in any). */
    private Future<Void> everywhere(Function<QdrantVectorStore, Future<Void>> write) {
        View v = view;
        List<Future<Void>> all = new ArrayList<>();
        all.add(write.apply(v.serving()));
        if (v.target() != null) {
            all.add(write.apply(v.target()));
        }
        for (QdrantVectorStore old : v.retired()) {
            all.add(write.apply(old)
                    .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(e)));
        }
        return Future.all(all).mapEmpty();
    }

    /**
     * A page of the serving collection's points, then (while a change runs) of the target's. The
     * offset names its collection ({@code collection|point}), so a listing started before a switch
     * goes on in the collections it began with.
     */
    @Override
    public Future<Page<ChunkPoint>> scroll(String tenantId, Integer partition, String offset, int limit) {
        View v = view;
        String collection = v.spaces().serving().collection();
        String from = null;
        if (offset != null) {
            int bar = offset.indexOf(CURSOR);
            collection = bar < 0 ? collection : offset.substring(0, bar);
            from = bar < 0 ? offset : offset.substring(bar + 1);
            from = from.isEmpty() ? null : from;
        }
        String next =
                v.target() != null && collection.equals(v.spaces().serving().collection())
                        ? v.spaces().target().collection()
                        : null;
        String in = collection;
        return client.sibling(in, 1).scroll(tenantId, partition, from, limit).compose(page -> {
            if (page.next() != null) {
                return Future.succeededFuture(new Page<>(page.items(), in + CURSOR + page.next(), page.foreign()));
            }
            if (next == null) {
                return Future.succeededFuture(new Page<>(page.items(), null, page.foreign()));
            }
            if (page.items().size() >= limit) {
                return Future.succeededFuture(new Page<>(page.items(), next + CURSOR, page.foreign()));
            }
            // The serving collection is done: the rest of the page from the target's first points.
            return client.sibling(next, 1)
                    .scroll(tenantId, partition, null, limit - page.items().size())
                    .map(first -> {
                        List<ChunkPoint> items = new ArrayList<>(page.items());
                        items.addAll(first.items());
                        return new Page<>(
                                items,
                                first.next() == null ? null : next + CURSOR + first.next(),
                                page.foreign() + first.foreign());
                    });
        });
    }

    @Override
    public Future<List<ChunkPoint>> pointsOf(String tenantId, String fileId) {
        View v = view;
        if (v.target() == null) {
            return v.serving().pointsOf(tenantId, fileId);
        }
        return Future.all(v.serving().pointsOf(tenantId, fileId), v.target().pointsOf(tenantId, fileId))
                .map(all -> {
                    List<ChunkPoint> out = new ArrayList<>(all.<List<ChunkPoint>>resultAt(0));
                    out.addAll(all.<List<ChunkPoint>>resultAt(1));
                    return out;
                });
    }

    @Override
    public Future<List<String>> tenantsBesides(Collection<String> known, int max) {
        View v = view;
        if (v.target() == null) {
            return v.serving().tenantsBesides(known, max);
        }
        // While the model changes, a tenant may have points in either collection.
        return v.serving().tenantsBesides(known, max).compose(first -> {
            Set<String> seen = new HashSet<>(known);
            seen.addAll(first);
            return v.target().tenantsBesides(seen, max - first.size()).map(second -> {
                List<String> out = new ArrayList<>(first);
                out.addAll(second);
                return out;
            });
        });
    }

    @Override
    public Future<List<ChunkPoint>> get(List<UUID> ids) {
        View v = view;
        if (v.target() == null) {
            return v.serving().get(ids);
        }
        return Future.all(v.serving().get(ids), v.target().get(ids)).map(all -> {
            List<ChunkPoint> out = new ArrayList<>(all.<List<ChunkPoint>>resultAt(0));
            out.addAll(all.<List<ChunkPoint>>resultAt(1));
            return out;
        });
    }

    @Override
    public Future<Long> count(String tenantId, String fileId) {
        View v = view;
        if (v.target() == null) {
            return v.serving().count(tenantId, fileId);
        }
        return Future.all(v.serving().count(tenantId, fileId), v.target().count(tenantId, fileId))
                .map(all -> all.<Long>resultAt(0) + all.<Long>resultAt(1));
    }

    /** Searches the serving collection: {@code vector} must come from its model ({@link VectorSpaces#serving}). */
    @Override
    public Future<List<Scored>> search(String tenantId, float[] vector, int k) {
        return view.serving().search(tenantId, vector, k);
    }

    /** Searches {@code space}'s collection (the serving one when the search began). */
    @Override
    public Future<List<Scored>> search(VectorSpaces.Space space, String tenantId, float[] vector, int k) {
        return space == null
                ? search(tenantId, vector, k)
                : client.sibling(space.collection(), space.dims()).search(tenantId, vector, k);
    }

    @Override
    public Future<Void> ping() {
        return client.ping();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }
}
