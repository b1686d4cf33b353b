package io.trisync.scan;

import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

/**
 * Reads what each store holds for one (tenant, partition), page by page through the adapters:
 * metadata by keyset pages, S3 by the partition's prefix (with each object's sha256 metadata, or in
 * a deep scan the sha256 of its bytes), Qdrant by a tenant-and-partition scroll without vectors.
 * Memory is bounded by one partition.
 */
final class PartitionReader {

    private final Vertx vertx;
    private final Stores stores;
    private final int pageSize;

    PartitionReader(Vertx vertx, Stores stores, int pageSize) {
        this.vertx = vertx;
        this.stores = stores;
        this.pageSize = Math.max(1, Math.min(1000, pageSize));
    }

    Future<Listings.Partition> read(String tenant, int partition, boolean deep) {
        Future<List<Listings.Meta>> metas = all(
                after -> stores.metadata().list(FileQuery.partition(tenant, partition), after, pageSize),
                PartitionReader::meta);
        Future<List<Listings.Blob>> blobs = all(
                        token -> stores.blobs().list(StoreKeys.blobPrefix(tenant, partition), token, pageSize, !deep),
                        info -> new Listings.Blob(fileIdOf(info.key()), info.size(), info.sha256()))
                .compose(list -> deep ? rehash(tenant, partition, list) : Future.succeededFuture(list));
        Future<List<Listings.Point>> points = all(
                offset -> stores.vectors().scroll(tenant, partition, offset, pageSize),
                p -> new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model()));
        return Future.all(metas, blobs, points)
                .map(v -> new Listings.Partition(metas.result(), blobs.result(), points.result()));
    }

    static Listings.Meta meta(FileRecord r) {
        FileRecord.Embedding e = r.embedding();
        return new Listings.Meta(
                r.id(),
                r.name(),
                r.status() == FileRecord.Status.DELETED,
                r.size(),
                r.sha256(),
                e == null ? 0 : e.chunks(),
                e == null ? null : e.contentSha256(),
                e == null ? null : e.model(),
                attention(r));
    }

    /** The reason a repair left the file to a person, from its {@code sync.attention}; null when none. */
    static String attention(FileRecord r) {
        JsonObject a = r.sync() == null ? null : r.sync().getJsonObject("attention");
        return a == null ? null : a.getString("reason");
    }

    private static String fileIdOf(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** Deep scan: replaces each blob's recorded sha256 by the sha256 of its bytes, one object at a time. */
    private Future<List<Listings.Blob>> rehash(String tenant, int partition, List<Listings.Blob> blobs) {
        Future<List<Listings.Blob>> chain = Future.succeededFuture(new ArrayList<>());
        for (Listings.Blob b : blobs) {
            chain = chain.compose(done -> stores.blobs()
                    .getBytes(StoreKeys.blobKey(tenant, partition, b.fileId()))
                    .compose(bytes -> vertx.executeBlocking(() -> sha256(bytes.getBytes()), false))
                    .map(sha -> {
                        done.add(new Listings.Blob(b.fileId(), b.size(), sha));
                        return done;
                    }));
        }
        return chain;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Follows a paged listing to its end, mapping each item. */
    private static <T, R> Future<List<R>> all(Function<String, Future<Page<T>>> page, Function<T, R> map) {
        List<R> out = new ArrayList<>();
        return next(page, map, null, out).map(out);
    }

    private static <T, R> Future<Void> next(
            Function<String, Future<Page<T>>> page, Function<T, R> map, String token, List<R> out) {
        return page.apply(token).compose(p -> {
            p.items().forEach(i -> out.add(map.apply(i)));
            return p.next() == null ? Future.succeededFuture() : next(page, map, p.next(), out);
        });
    }
}
