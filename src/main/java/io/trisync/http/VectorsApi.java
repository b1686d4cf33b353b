package io.trisync.http;

import io.trisync.store.VectorSpaces;
import io.trisync.store.VectorStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * The vector collections (admin only): {@code GET /api/vector-collections} says which collection
 * serves search, which one a change of embedding model is filling and which ones earlier changes
 * retired (kept until purged); {@code DELETE
 * /api/vector-collections/{name}} purges a retired one (the one a change left behind) or abandons the
 * change by deleting the one it fills; never the serving one.
 */
public final class VectorsApi {

    private final VectorStore vectors;

    public VectorsApi(VectorStore vectors) {
        this.vectors = vectors;
    }

    public void mount(Router router) {
        router.get("/api/vector-collections").handler(ctx -> {
            Access.caller(ctx).requireAdmin("the vector collections");
            vectors.refresh()
                    .onSuccess(spaces -> FilesApi.json(ctx, 200, view(spaces)))
                    .onFailure(ctx::fail);
        });
        router.delete("/api/vector-collections/:name").handler(ctx -> {
            Access.caller(ctx).requireAdmin("purging a vector collection");
            String name = ctx.pathParam("name");
            vectors.refresh()
                    .compose(spaces -> vectors.purge(name))
                    .onSuccess(v -> FilesApi.json(ctx, 200, new JsonObject().put("purged", name)))
                    .onFailure(ctx::fail);
        });
    }

    private static JsonObject view(VectorSpaces spaces) {
        JsonObject out = new JsonObject();
        if (spaces == null) {
            return out;
        }
        out.put("serving", space(spaces.serving()));
        out.put("target", spaces.migrating() ? space(spaces.target()) : null);
        JsonArray retired = new JsonArray();
        spaces.retired().forEach(r -> retired.add(space(r)));
        return out.put("retired", retired);
    }

    private static JsonObject space(VectorSpaces.Space s) {
        return new JsonObject()
                .put("collection", s.collection())
                .put("model", s.model())
                .put("dimensions", s.dims());
    }
}
