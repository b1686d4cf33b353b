package io.trisync.store;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pointer of {@link SpacedVectorStore} in MongoDB ({@code vector_spaces}, {@code _id} = {@code
 * QDRANT_COLLECTION}): read, first written, and planned at a node's start for its configured
 * model. Every write is conditioned on the generation read, so of nodes writing at once one wins
 * and the others read and plan again.
 */
final class VectorSpacesPointer {

    private static final Logger LOG = LoggerFactory.getLogger(VectorSpacesPointer.class);
    static final String SPACES = "vector_spaces";

    private final MongoClient mongo;
    private final QdrantVectorStore client;
    private final VectorSpaces.Space configured;
    /** {@code EMBEDDING_MODEL_CHANGE} is {@code side_by_side}. */
    private final boolean sideBySide;

    VectorSpacesPointer(
            MongoClient mongo, QdrantVectorStore client, VectorSpaces.Space configured, boolean sideBySide) {
        this.mongo = mongo;
        this.client = client;
        this.configured = configured;
        this.sideBySide = sideBySide;
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
            if (size == null) {
                return Future.succeededFuture(VectorSpaces.of(configured));
            }
            // A collection made before the pointer existed: its model named from a point (the
            // configured one when it holds none), so a change of model is planned from it.
            return client.anyModel().map(model -> {
                if (size == configured.dims() && (model == null || model.equals(configured.model()))) {
                    return VectorSpaces.of(configured);
                }
                String name = model == null ? "unknown" : model;
                String provider = TrisyncConfig.EmbeddingConfig.LOCAL_MODEL.equals(name)
                        ? TrisyncConfig.EmbeddingConfig.LOCAL
                        : TrisyncConfig.EmbeddingConfig.OPENAI;
                return VectorSpaces.of(new VectorSpaces.Space(configured.collection(), name, size, provider, null));
            });
        });
    }

    /**
     * The spaces for the configured model (the same spaces when nothing is to change). A model of
     * another dimension, or of the same one when {@code EMBEDDING_MODEL_CHANGE} is {@code side_by_side},
     * gets a collection of its own beside the serving one; {@code in_place}, a model of the same
     * dimension re-embeds in the serving collection.
     */
    private Future<VectorSpaces> plan(VectorSpaces spaces) {
        VectorSpaces.Space serving = spaces.serving();
        if (sameModel(serving, configured)) {
            if (spaces.migrating()) {
                // A node still configured for the serving model (a rolling restart): it leaves the change
                // to the others; what it writes is the serving model's, which the re-index takes up.
                LOG.warn(
                        "A change of embedding model to {} ({}) is under way; this node embeds with the serving"
                                + " model {} and leaves the change to nodes configured for the new one",
                        spaces.target().model(),
                        spaces.target().collection(),
                        serving.model());
                return Future.succeededFuture(spaces);
            }
            // The same model (its provider's URL may have moved).
            VectorSpaces.Space now = in(serving.collection());
            return Future.succeededFuture(now.equals(serving) ? spaces : spaces.serving(now));
        }
        if (spaces.migrating()) {
            if (sameModel(spaces.target(), configured)) {
                return Future.succeededFuture(spaces);
            }
            return Future.failedFuture(new Failure.Conflict("a change of embedding model to "
                    + spaces.target().model() + " (" + spaces.target().dims() + " dims, collection "
                    + spaces.target().collection() + ") is under way; this node is configured for "
                    + configured.model() + " (" + configured.dims() + " dims): configure "
                    + serving.model() + " or " + spaces.target().model()));
        }
        for (VectorSpaces.Space old : spaces.retired()) {
            if (sameModel(old, configured)) {
                // Retired by a switch away from it, or by an abandoned change to it not yet dropped.
                return Future.failedFuture(new Failure.Conflict("collection " + old.collection() + " ("
                        + old.model() + ") is retired; " + serving.collection() + " (" + serving.model()
                        + ") serves search: configure " + serving.model() + ", or purge " + old.collection()
                        + " (DELETE /api/vector-collections/" + old.collection() + ") before changing to "
                        + old.model()));
            }
        }
        if (serving.dims() == configured.dims() && !sideBySide) {
            // EMBEDDING_MODEL_CHANGE=in_place: re-embedded in the serving collection (STALE_VECTORS, then a re-index).
            return Future.succeededFuture(spaces.serving(in(serving.collection())));
        }
        if (serving.dims() != configured.dims()) {
            for (VectorSpaces.Space old : spaces.retired()) {
                if (old.dims() == configured.dims()) {
                    return Future.failedFuture(new Failure.Conflict("this deployment switched from collection "
                            + old.collection() + " (" + old.dims() + " dims) to " + serving.collection() + " ("
                            + serving.dims() + " dims); configure " + serving.dims() + " dimensions, or purge "
                            + old.collection() + " (DELETE /api/vector-collections/" + old.collection()
                            + ") before changing back"));
                }
            }
        }
        String collection = targetCollection(serving);
        if (spaces.retiredCollection(collection) != null) {
            return Future.failedFuture(new Failure.Conflict("collection " + collection + " of the model "
                    + configured.model() + " was retired by an earlier change; purge it (DELETE"
                    + " /api/vector-collections/" + collection + ") before changing back to that model"));
        }
        VectorSpaces.Space target = in(collection);
        return client.sibling(collection, configured.dims())
                .existingSize()
                .compose(size -> size == null
                        ? Future.succeededFuture(spaces.filling(target))
                        : Future.failedFuture(new Failure.Conflict("collection " + collection
                                + " exists and is not in use; delete it in Qdrant before changing to "
                                + configured.model() + " (" + configured.dims() + " dimensions)")));
    }

    /** Whether {@code space} holds vectors of the configured model: the same identity and dimension. */
    private static boolean sameModel(VectorSpaces.Space space, VectorSpaces.Space configured) {
        return space.model().equals(configured.model()) && space.dims() == configured.dims();
    }

    /** The configured model in {@code collection}. */
    private VectorSpaces.Space in(String collection) {
        return new VectorSpaces.Space(
                collection, configured.model(), configured.dims(), configured.provider(), configured.url());
    }

    /**
     * The collection a change to the configured model fills: {@code {QDRANT_COLLECTION}__{dims}d} for
     * another dimension (as before a change of the same dimension had a collection of its own), and
     * {@code {QDRANT_COLLECTION}__{dims}d_{model}} for a model of the serving one's dimension.
     */
    String targetCollection(VectorSpaces.Space serving) {
        String base = configured.collection() + "__" + configured.dims() + "d";
        return serving.dims() != configured.dims() ? base : base + "_" + slug(configured.model(), configured.dims());
    }

    /**
     * A model identity as part of a collection name: its name without the {@code @dims} suffix, lower
     * case, runs of other characters than letters and digits as one {@code -}; at most 40 characters,
     * with 8 hex digits of its SHA-256 when it was not plain already, cut or empty. (The local model and
     * a provider's model of the same name would meet; the check that the target collection does not
     * exist yet refuses that change.)
     */
    static String slug(String model, int dims) {
        String name = model.endsWith("@" + dims) ? model.substring(0, model.length() - ("@" + dims).length()) : model;
        String slug =
                name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (!slug.isEmpty() && slug.length() <= 40 && slug.equals(name)) {
            return slug;
        }
        String hash =
                StoreKeys.sha256Hex(model.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
        return (slug.length() > 31 ? slug.substring(0, 31) : slug) + (slug.isEmpty() ? "" : "-") + hash;
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
