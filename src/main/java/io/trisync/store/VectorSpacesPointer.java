package io.trisync.store;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pointer of {@link SpacedVectorStore} in MongoDB ({@code vector_spaces}, {@code _id} = {@code
 * QDRANT_COLLECTION}): read, first written, and planned at a node's start for its configured
 * dimension. Every write is conditioned on the generation read, so of nodes writing at once one wins
 * and the others read and plan again.
 */
final class VectorSpacesPointer {

    private static final Logger LOG = LoggerFactory.getLogger(VectorSpacesPointer.class);
    static final String SPACES = "vector_spaces";

    private final MongoClient mongo;
    private final QdrantVectorStore client;
    private final VectorSpaces.Space configured;

    VectorSpacesPointer(MongoClient mongo, QdrantVectorStore client, VectorSpaces.Space configured) {
        this.mongo = mongo;
        this.client = client;
        this.configured = configured;
    }

    /**
     * The spaces after this node's start: the pointer as found when nothing is to change, else as
     * this node planned and wrote it (read and planned again, up to {@code tries} times, when another
     * node wrote first).
     */
    Future<VectorSpaces> settle(int tries) {
        return read().compose(found -> found == null
                ? first().compose(spaces -> insert(spaces)
                        .compose(won -> won || tries <= 0 ? Future.succeededFuture(spaces) : settle(tries - 1)))
                : plan(found)
                        .compose(planned -> planned.equals(found)
                                ? Future.succeededFuture(found)
                                : replace(found, planned)
                                        .compose(won -> won
                                                ? Future.succeededFuture(planned)
                                                : tries <= 0
                                                        ? Future.failedFuture(
                                                                new Failure.Conflict(
                                                                        "the vector collection pointer kept changing under this node's start"))
                                                        : settle(tries - 1))));
    }

    /** The spaces of a store that has no pointer yet: the configured collection, as Qdrant holds it. */
    private Future<VectorSpaces> first() {
        return client.existingSize().compose(size -> {
            if (size == null || size == configured.dims()) {
                return Future.succeededFuture(VectorSpaces.of(configured));
            }
            // A collection made before the pointer existed, of another dimension: name its model from a point.
            return client.anyModel().map(model -> {
                String name = model == null ? "unknown" : model;
                String provider = TrisyncConfig.EmbeddingConfig.LOCAL_MODEL.equals(name)
                        ? TrisyncConfig.EmbeddingConfig.LOCAL
                        : TrisyncConfig.EmbeddingConfig.OPENAI;
                return VectorSpaces.of(new VectorSpaces.Space(configured.collection(), name, size, provider, null));
            });
        });
    }

    /** The spaces for the configured dimension (the same spaces when nothing is to change). */
    private Future<VectorSpaces> plan(VectorSpaces spaces) {
        VectorSpaces.Space serving = spaces.serving();
        if (serving.dims() == configured.dims()) {
            if (spaces.migrating()) {
                // A node still configured for the serving model (a rolling restart): it leaves the change
                // to the others; what it writes is the serving model's, which the re-index takes up.
                LOG.warn(
                        "A change of embedding dimension to {} ({}) is under way; this node embeds with the serving"
                                + " model {} and leaves the change to nodes configured for the new one",
                        spaces.target().collection(),
                        spaces.target().model(),
                        serving.model());
                return Future.succeededFuture(spaces);
            }
            // Same dimension: a model change re-embeds in place (STALE_VECTORS, then a re-index).
            VectorSpaces.Space now = new VectorSpaces.Space(
                    serving.collection(),
                    configured.model(),
                    configured.dims(),
                    configured.provider(),
                    configured.url());
            return Future.succeededFuture(now.equals(serving) ? spaces : spaces.serving(now));
        }
        if (spaces.migrating()) {
            if (spaces.target().dims() == configured.dims()) {
                return Future.succeededFuture(spaces);
            }
            return Future.failedFuture(new Failure.Conflict("a change of embedding dimension to "
                    + spaces.target().dims() + " (collection " + spaces.target().collection() + ") is under way; this"
                    + " node is configured for " + configured.dims() + ": configure "
                    + spaces.serving().dims() + " or "
                    + spaces.target().dims()));
        }
        for (VectorSpaces.Space old : spaces.retired()) {
            if (old.dims() == configured.dims()) {
                return Future.failedFuture(new Failure.Conflict("this deployment switched from collection "
                        + old.collection() + " (" + old.dims() + " dims) to " + serving.collection() + " ("
                        + serving.dims() + " dims); configure " + serving.dims() + " dimensions, or purge "
                        + old.collection() + " (DELETE /api/vector-collections/" + old.collection()
                        + ") before changing back"));
            }
        }
        String collection = configured.collection() + "__" + configured.dims() + "d";
        VectorSpaces.Space target = new VectorSpaces.Space(
                collection, configured.model(), configured.dims(), configured.provider(), configured.url());
        return client.sibling(collection, configured.dims())
                .existingSize()
                .compose(size -> size == null
                        ? Future.succeededFuture(spaces.filling(target))
                        : Future.failedFuture(new Failure.Conflict("collection " + collection
                                + " exists and is not in use; delete it in Qdrant before changing to "
                                + configured.dims()
                                + " dimensions")));
    }

    Future<VectorSpaces> read() {
        return mongo.findOne(SPACES, new JsonObject().put(VectorSpaces.ID, configured.collection()), null)
                .recover(MongoErrors::failed)
                .map(VectorSpaces::fromDocument);
    }

    /** Inserts the first pointer; false when another node did first. */
    private Future<Boolean> insert(VectorSpaces spaces) {
        return mongo.insert(SPACES, spaces.toDocument().put(VectorSpaces.ID, configured.collection()))
                .map(id -> true)
                .recover(e -> MongoErrors.<Boolean>failed(e)
                        .recover(f -> f instanceof Failure.Conflict
                                ? Future.succeededFuture(false)
                                : Future.failedFuture(f)));
    }

    /** Replaces {@code read} by {@code next} if the pointer is still at {@code read}'s generation. */
    Future<Boolean> replace(VectorSpaces read, VectorSpaces next) {
        JsonObject query = new JsonObject()
                .put(VectorSpaces.ID, configured.collection())
                .put(VectorSpaces.GENERATION, read.generation());
        return mongo.findOneAndReplace(SPACES, query, next.toDocument().put(VectorSpaces.ID, configured.collection()))
                .recover(MongoErrors::failed)
                .map(before -> before != null);
    }
}
