package io.trisync.store;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@link VectorStore}: Qdrant collections as {@link VectorSpaces} says (the pointer in
 * MongoDB {@code vector_spaces}, {@code _id} = {@code QDRANT_COLLECTION}, the name the deployment knows
 * its vectors by, as an alias would be). Normally one collection. When the configured embedding dimension is
 * not the serving collection's, {@link #init} starts a change of dimension: a target collection
 * {@code {QDRANT_COLLECTION}__{dims}d} is made beside the serving one, and then
 * <ul>
 *   <li>points of the configured model are written to the target, any others to the serving one;
 *   <li>deletes go to both; listings and counts read both (a scan takes from them the points of the
 *       model its record names, {@link #retiringModel});
 *   <li>search reads the serving collection only, with vectors of the serving model;
 * </ul>
 * until {@link #switchToTarget} (a re-index, once every file is re-embedded) makes the target serve.
 * Every node reads the pointer again every few seconds ({@link #refresh}).
 */
public final class SpacedVectorStore implements VectorStore {

    private static final Logger LOG = LoggerFactory.getLogger(SpacedVectorStore.class);
    static final String SPACES = "vector_spaces";
    /** A listing page's offset in the target collection (serving ones carry no prefix). */
    private static final String TARGET_OFFSET = "target:";

    private final QdrantVectorStore client;
    private final MongoClient mongo;
    private final VectorSpaces.Space configured;

    /** The collections now: serving, and target (null when no change of dimension runs). */
    private record View(VectorSpaces spaces, QdrantVectorStore serving, QdrantVectorStore target) {}

    private volatile View view;

    public SpacedVectorStore(QdrantVectorStore client, MongoClient mongo, TrisyncConfig config) {
        this.client = client;
        this.mongo = mongo;
        TrisyncConfig.EmbeddingConfig e = config.embedding();
        this.configured = new VectorSpaces.Space(
                config.qdrant().collection(),
                e.modelName(),
                config.qdrant().vectorSize(),
                e.provider(),
                e.local() ? null : e.url());
        this.view = new View(new VectorSpaces(configured, null), client, null);
    }

    /** The spaces as this node last read them. */
    @Override
    public VectorSpaces spaces() {
        return view.spaces();
    }

    /**
     * Reads the pointer (making it on first start from the collection Qdrant holds), starts a change
     * of dimension when the configured one differs from the serving collection's, and makes the
     * collections and their payload indexes where missing.
     */
    @Override
    public Future<Void> init() {
        return read().compose(found -> found != null ? Future.succeededFuture(found) : first())
                .compose(this::plan)
                .compose(spaces -> save(spaces).map(spaces))
                .compose(spaces -> {
                    View next = viewOf(spaces);
                    return next.serving()
                            .init()
                            .compose(v -> next.target() == null
                                    ? Future.succeededFuture()
                                    : next.target().init())
                            .onSuccess(v -> {
                                view = next;
                                if (spaces.migrating()) {
                                    LOG.warn(
                                            "Embedding dimension change under way: collection {} ({} dims, {}) serves"
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

    /** The spaces of a store that has no pointer yet: the configured collection, as Qdrant holds it. */
    private Future<VectorSpaces> first() {
        return client.existingSize().compose(size -> {
            if (size == null || size == configured.dims()) {
                return Future.succeededFuture(new VectorSpaces(configured, null));
            }
            // A collection made before the pointer existed, of another dimension: name its model from a point.
            return client.anyModel().map(model -> {
                String name = model == null ? "unknown" : model;
                String provider = TrisyncConfig.EmbeddingConfig.LOCAL_MODEL.equals(name)
                        ? TrisyncConfig.EmbeddingConfig.LOCAL
                        : TrisyncConfig.EmbeddingConfig.OPENAI;
                return new VectorSpaces(
                        new VectorSpaces.Space(configured.collection(), name, size, provider, null), null);
            });
        });
    }

    /** The spaces for the configured dimension: a change of it starts (or goes on), or is given up. */
    private Future<VectorSpaces> plan(VectorSpaces spaces) {
        if (spaces.serving().dims() == configured.dims() && !spaces.migrating()) {
            // Same dimension: a model change re-embeds in place (STALE_VECTORS, then a re-index).
            return Future.succeededFuture(new VectorSpaces(
                    new VectorSpaces.Space(
                            spaces.serving().collection(),
                            configured.model(),
                            configured.dims(),
                            configured.provider(),
                            configured.url()),
                    null));
        }
        if (spaces.serving().dims() == configured.dims()) {
            // A node still configured for the serving model (a rolling restart): it leaves the change
            // to the others; what it writes is the serving model's, which the re-index takes up.
            LOG.warn(
                    "A change of embedding dimension to {} ({}) is under way; this node embeds with the serving"
                            + " model {} and leaves the change to nodes configured for the new one",
                    spaces.target().collection(),
                    spaces.target().model(),
                    spaces.serving().model());
            return Future.succeededFuture(spaces);
        }
        if (spaces.migrating() && spaces.target().dims() == configured.dims()) {
            return Future.succeededFuture(new VectorSpaces(
                    spaces.serving(),
                    new VectorSpaces.Space(
                            spaces.target().collection(),
                            configured.model(),
                            configured.dims(),
                            configured.provider(),
                            configured.url())));
        }
        String collection = configured.collection() + "__" + configured.dims() + "d";
        if (collection.equals(spaces.serving().collection())) {
            return Future.failedFuture(new Failure.Conflict("collection " + collection + " already serves"));
        }
        return Future.succeededFuture(new VectorSpaces(
                spaces.serving(),
                new VectorSpaces.Space(
                        collection, configured.model(), configured.dims(), configured.provider(), configured.url())));
    }

    private View viewOf(VectorSpaces spaces) {
        QdrantVectorStore serving =
                client.sibling(spaces.serving().collection(), spaces.serving().dims());
        QdrantVectorStore target = spaces.migrating()
                ? client.sibling(spaces.target().collection(), spaces.target().dims())
                : null;
        return new View(spaces, serving, target);
    }

    /** Reads the pointer again (another node may have switched); the view follows it. */
    @Override
    public Future<VectorSpaces> refresh() {
        return read().map(spaces -> {
            if (spaces != null && !spaces.equals(view.spaces())) {
                LOG.info(
                        "Vector collections now: {} serving, {} filling",
                        spaces.serving().collection(),
                        spaces.migrating() ? spaces.target().collection() : "none");
                view = viewOf(spaces);
            }
            return view.spaces();
        });
    }

    /**
     * Makes the target collection serve, if this is still the change under way (one conditional write,
     * so of nodes switching at once one does it). Completes with the spaces after it.
     */
    @Override
    public Future<VectorSpaces> switchToTarget() {
        VectorSpaces now = view.spaces();
        if (!now.migrating()) {
            return Future.succeededFuture(now);
        }
        JsonObject query = new JsonObject()
                .put("_id", configured.collection())
                .put("target.collection", now.target().collection());
        JsonObject update = new JsonObject()
                .put("$set", now.switched().toDocument().put("switchedAt", Dates.toBson(java.time.Instant.now())));
        return mongo.updateCollection(SPACES, query, update)
                .recover(MongoMetadataStore::failed)
                .compose(done -> refresh())
                .onSuccess(spaces -> LOG.info(
                        "Collection {} serves search now", spaces.serving().collection()));
    }

    /**
     * Deletes a collection that neither serves nor is being filled (the one a change of dimension left);
     * fails with {@link Failure.Conflict} for those two.
     */
    @Override
    public Future<Void> purge(String collection) {
        VectorSpaces now = view.spaces();
        if (collection.equals(now.serving().collection())
                || now.migrating() && collection.equals(now.target().collection())) {
            return Future.failedFuture(new Failure.Conflict("collection " + collection + " is in use"));
        }
        QdrantVectorStore old = client.sibling(collection, 1);
        return old.existingSize()
                .compose(size -> size == null
                        ? Future.failedFuture(new Failure.NotFound("qdrant", "no collection " + collection))
                        : old.drop());
    }

    @Override
    public VectorSpaces.Space retiring() {
        VectorSpaces spaces = view.spaces();
        return spaces.migrating() ? spaces.serving() : null;
    }

    private Future<VectorSpaces> read() {
        return mongo.findOne(SPACES, new JsonObject().put("_id", configured.collection()), null)
                .recover(MongoMetadataStore::failed)
                .map(VectorSpaces::fromDocument);
    }

    private Future<Void> save(VectorSpaces spaces) {
        return mongo.save(SPACES, spaces.toDocument().put("_id", configured.collection()))
                .<Void>mapEmpty()
                .recover(MongoMetadataStore::failed);
    }

    @Override
    public Future<Void> upsert(List<ChunkPoint> points) {
        View v = view;
        if (v.target() == null) {
            return v.serving().upsert(points);
        }
        List<ChunkPoint> target = new ArrayList<>();
        List<ChunkPoint> serving = new ArrayList<>();
        for (ChunkPoint p : points) {
            (v.spaces().target().model().equals(p.model()) ? target : serving).add(p);
        }
        return Future.all(v.target().upsert(target), v.serving().upsert(serving))
                .mapEmpty();
    }

    @Override
    public Future<Void> deleteFile(String tenantId, String fileId) {
        return both(s -> s.deleteFile(tenantId, fileId));
    }

    @Override
    public Future<Void> deleteTenant(String tenantId) {
        return both(s -> s.deleteTenant(tenantId));
    }

    @Override
    public Future<Void> delete(List<UUID> ids) {
        return both(s -> s.delete(ids));
    }

    private Future<Void> both(java.util.function.Function<QdrantVectorStore, Future<Void>> write) {
        View v = view;
        return v.target() == null
                ? write.apply(v.serving())
                : Future.all(write.apply(v.serving()), write.apply(v.target())).mapEmpty();
    }

    /** While a change runs, the serving collection's pages, then the target's (offsets marked {@value #TARGET_OFFSET}). */
    @Override
    public Future<Page<ChunkPoint>> scroll(String tenantId, Integer partition, String offset, int limit) {
        View v = view;
        if (v.target() == null) {
            return v.serving().scroll(tenantId, partition, offset, limit);
        }
        if (offset != null && offset.startsWith(TARGET_OFFSET)) {
            String inTarget = offset.substring(TARGET_OFFSET.length());
            return v.target()
                    .scroll(tenantId, partition, inTarget.isEmpty() ? null : inTarget, limit)
                    .map(page -> new Page<>(page.items(), page.next() == null ? null : TARGET_OFFSET + page.next()));
        }
        return v.serving().scroll(tenantId, partition, offset, limit).compose(page -> {
            if (page.next() != null) {
                return Future.succeededFuture(page);
            }
            if (page.items().size() >= limit) {
                return Future.succeededFuture(new Page<>(page.items(), TARGET_OFFSET));
            }
            // The serving collection is done: the rest of the page from the target's first points.
            return v.target()
                    .scroll(tenantId, partition, null, limit - page.items().size())
                    .map(first -> {
                        List<ChunkPoint> items = new ArrayList<>(page.items());
                        items.addAll(first.items());
                        return new Page<>(items, first.next() == null ? null : TARGET_OFFSET + first.next());
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

    @Override
    public Future<Void> ping() {
        return client.ping();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }
}
