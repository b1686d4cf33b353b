package io.trisync.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the vectors live (MongoDB {@code vector_spaces}, one document): the collection that search and
 * scans use ({@code serving}) and, while the embedding model changes, the collection a re-index
 * fills beside it ({@code target}). The switch from one to the other is one conditional write, made
 * once every file is re-embedded; the old collection is then {@code retired} (still emptied by
 * deletes and erasures) until purged. Every change is a write conditioned on {@code generation}.
 */
public record VectorSpaces(Space serving, Space target, List<Space> retired, long generation) {

    /** The document's field names ({@code _id}: the configured collection name, see {@link VectorSpacesPointer}). */
    public static final String ID = "_id";

    public static final String SERVING = "serving";
    public static final String TARGET = "target";
    public static final String RETIRED = "retired";
    public static final String GENERATION = "generation";

    public VectorSpaces {
        retired = retired == null ? List.of() : List.copyOf(retired);
    }

    /** The first spaces of a deployment: one collection serving, nothing retired. */
    public static VectorSpaces of(Space serving) {
        return new VectorSpaces(serving, null, List.of(), 1);
    }

    /**
     * One collection and the model whose vectors it holds: its identity ({@code name} or
     * {@code model@dims}), dimension, provider ({@code local}, {@code openai}) and the provider's base
     * URL (null for the local model), enough to embed queries with it while it serves.
     */
    public record Space(String collection, String model, int dims, String provider, String url) {

        /** The space document's field names. */
        public static final String COLLECTION = "collection";

        public static final String MODEL = "model";
        public static final String DIMS = "dims";
        public static final String PROVIDER = "provider";
        public static final String URL = "url";

        JsonObject toDocument() {
            return new JsonObject()
                    .put(COLLECTION, collection)
                    .put(MODEL, model)
                    .put(DIMS, dims)
                    .put(PROVIDER, provider)
                    .put(URL, url);
        }

        static Space fromDocument(JsonObject d) {
            return d == null
                    ? null
                    : new Space(
                            d.getString(COLLECTION),
                            d.getString(MODEL),
                            d.getInteger(DIMS, 0),
                            d.getString(PROVIDER),
                            d.getString(URL));
        }
    }

    /** Whether a change of model is under way (a target collection is being filled). */
    public boolean migrating() {
        return target != null;
    }

    /** The spaces once the target has taken over: it serves, nothing is being filled, the old one is retired. */
    public VectorSpaces switched() {
        List<Space> old = new ArrayList<>(retired);
        old.add(serving);
        return new VectorSpaces(target, null, old, generation + 1);
    }

    /** These spaces with {@code next} being filled (or, null, none), one generation on. */
    public VectorSpaces filling(Space next) {
        return new VectorSpaces(serving, next, retired, generation + 1);
    }

    /**
     * The change under way abandoned: nothing is being filled, and the collection it filled is retired
     * (named until it is dropped, so that a failure or a kill before its drop leaves it to purge again).
     */
    public VectorSpaces abandoned() {
        List<Space> old = new ArrayList<>(retired);
        old.add(target);
        return new VectorSpaces(serving, null, old, generation + 1);
    }

    /** These spaces with {@code now} serving instead (same collection, another model name), one generation on. */
    public VectorSpaces serving(Space now) {
        return new VectorSpaces(now, target, retired, generation + 1);
    }

    /** These spaces without the retired collection {@code collection}, one generation on. */
    public VectorSpaces purged(String collection) {
        return new VectorSpaces(
                serving,
                target,
                retired.stream().filter(r -> !r.collection().equals(collection)).toList(),
                generation + 1);
    }

    /** The retired space of {@code collection}, or null. */
    public Space retiredCollection(String collection) {
        return retired.stream()
                .filter(r -> r.collection().equals(collection))
                .findFirst()
                .orElse(null);
    }

    JsonObject toDocument() {
        JsonArray old = new JsonArray();
        retired.forEach(r -> old.add(r.toDocument()));
        return new JsonObject()
                .put(SERVING, serving.toDocument())
                .put(TARGET, target == null ? null : target.toDocument())
                .put(RETIRED, old)
                .put(GENERATION, generation);
    }

    static VectorSpaces fromDocument(JsonObject d) {
        if (d == null) {
            return null;
        }
        List<Space> old = new ArrayList<>();
        JsonArray array = d.getJsonArray(RETIRED);
        if (array != null) {
            for (int i = 0; i < array.size(); i++) {
                old.add(Space.fromDocument(array.getJsonObject(i)));
            }
        }
        return new VectorSpaces(
                Space.fromDocument(d.getJsonObject(SERVING)),
                Space.fromDocument(d.getJsonObject(TARGET)),
                old,
                d.getLong(GENERATION, 1L));
    }
}
