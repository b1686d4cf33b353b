package io.trisync.store;

import io.vertx.core.json.JsonObject;

/**
 * Where the vectors live (MongoDB {@code vector_spaces}, one document): the collection that search and
 * scans use ({@code serving}) and, while the embedding dimension changes, the collection a re-index
 * fills beside it ({@code target}). The switch from one to the other is one conditional write, made
 * once every file is re-embedded; the old collection stays until purged.
 */
public record VectorSpaces(Space serving, Space target) {

    /**
     * One collection and the model whose vectors it holds: its identity ({@code name} or
     * {@code model@dims}), dimension, provider ({@code local}, {@code openai}) and the provider's base
     * URL (null for the local model), enough to embed queries with it while it serves.
     */
    public record Space(String collection, String model, int dims, String provider, String url) {

        JsonObject toDocument() {
            return new JsonObject()
                    .put("collection", collection)
                    .put("model", model)
                    .put("dims", dims)
                    .put("provider", provider)
                    .put("url", url);
        }

        static Space fromDocument(JsonObject d) {
            return d == null
                    ? null
                    : new Space(
                            d.getString("collection"),
                            d.getString("model"),
                            d.getInteger("dims", 0),
                            d.getString("provider"),
                            d.getString("url"));
        }
    }

    /** Whether a change of dimension is under way (a target collection is being filled). */
    public boolean migrating() {
        return target != null;
    }

    /** The spaces once the target has taken over: it serves, nothing is being filled. */
    public VectorSpaces switched() {
        return new VectorSpaces(target, null);
    }

    JsonObject toDocument() {
        return new JsonObject()
                .put("serving", serving.toDocument())
                .put("target", target == null ? null : target.toDocument());
    }

    static VectorSpaces fromDocument(JsonObject d) {
        return d == null
                ? null
                : new VectorSpaces(
                        Space.fromDocument(d.getJsonObject("serving")), Space.fromDocument(d.getJsonObject("target")));
    }
}
