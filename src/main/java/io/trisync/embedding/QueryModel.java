package io.trisync.embedding;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.store.VectorSpaces;
import io.vertx.core.Vertx;

/**
 * The model search embeds queries with: the node's own, or, while the embedding model changes,
 * the model of the collection that still serves search (as {@link VectorSpaces.Space} records it:
 * the local model, or an OpenAI-compatible one at its URL with this node's API key), made once per
 * serving space.
 */
public final class QueryModel {

    private final Vertx vertx;
    private final TrisyncConfig.EmbeddingConfig config;
    private final EmbeddingModel own;
    private volatile VectorSpaces.Space madeFor;
    private volatile EmbeddingModel made;

    public QueryModel(Vertx vertx, TrisyncConfig.EmbeddingConfig config, EmbeddingModel own) {
        this.vertx = vertx;
        this.config = config;
        this.own = own;
    }

    /**
     * The model whose vectors {@code serving} holds ({@code null}: the node's own). Fails with {@link
     * Failure.Unavailable} when that model cannot be reached from here (a collection made before its
     * provider's URL was recorded).
     */
    public EmbeddingModel forSpace(VectorSpaces.Space serving) {
        if (serving == null || serving.model().equals(own.name())) {
            return own;
        }
        if (serving.equals(madeFor)) {
            return made;
        }
        EmbeddingModel model;
        if (TrisyncConfig.EmbeddingConfig.LOCAL.equals(serving.provider())) {
            model = MiniLmEmbeddingModel.shared();
        } else if (serving.url() != null) {
            String name = serving.model();
            int at = name.lastIndexOf('@');
            model = new OpenAiEmbeddingModel(
                    vertx,
                    new TrisyncConfig.EmbeddingConfig(
                            TrisyncConfig.EmbeddingConfig.OPENAI,
                            serving.url(),
                            at < 0 ? name : name.substring(0, at),
                            // The node's key only goes to the URL it was configured for.
                            serving.url().equals(config.url()) ? config.apiKey() : "",
                            serving.dims(),
                            config.batchSize(),
                            config.timeoutSeconds(),
                            config.maxConcurrency(),
                            config.reindexTargetBatchMs(),
                            config.modelChange()));
        } else {
            throw new Failure.Unavailable(
                    "search is unavailable until the re-index to " + own.name() + " switches collections: the serving"
                            + " collection's model " + serving.model() + " has no recorded URL");
        }
        made = model;
        madeFor = serving;
        return model;
    }
}
