package io.trisync.scan;

import io.trisync.concurrent.Lanes;
import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what each store holds for one (tenant, partition), page by page through the adapters:
 * metadata by keyset pages, S3 by the partition's prefix (an object's sha256 metadata is read only
 * when its ETag differs from the one recorded at ingest; a deep scan hashes every object's bytes),
 * Qdrant by a tenant-and-partition scroll without vectors.
 * Memory is bounded by one partition. An object under the partition's prefix whose key names no file
 * id of this service's form ({@link StoreKeys#isFileId}) was not written by it: it is left out of the
 * listings (so no issue names it and no repair touches it) and returned apart, for the report.
 */
final class PartitionReader {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionReader.class);

    private final Stores stores;
    private final int pageSize;

    PartitionReader(Stores stores, int pageSize) {
        this.stores = stores;
        this.pageSize = Math.max(1, Math.min(1000, pageSize));
    }

    /**
     * A partition as read for a full scan: the listings, each record's last verdict (when it has one),
     * and the files whose sha256 was taken from what an open issue knows of their unchanged object
     * ({@code known}).
     */
    record Read(
            Listings.Partition listings,
            Map<String, SyncVerdict> verdicts,
            Set<String> known,
            List<String> foreign,
            int foreignPoints) {}

    /** The partition's objects: those whose key names a file ({@code files}), the keys of the others ({@code foreign}). */
    record Listed(List<BlobInfo> files, List<String> foreign) {}

    /** Reads the partition, every object's checksum as the scan's mode reads it. */
    Future<Read> read(String tenant, int partition, boolean deep) {
        return read(tenant, partition, deep, KnownContent.NONE);
    }

    /**
     * Reads the partition; a full scan takes the sha256 of an object {@code known} names as it is now
     * from there (a deep scan hashes every object).
     */
    Future<Read> read(String tenant, int partition, boolean deep, KnownContent known) {
        return read(tenant, partition, deep, Future.succeededFuture(known));
    }

    /**
     * {@link #read(String, int, boolean, KnownContent)} with what is known of the content still being
     * read: the listings start at once, and only the checksums wait for it.
     */
    Future<Read> read(String tenant, int partition, boolean deep, Future<KnownContent> known) {
        Set<String> reused = new HashSet<>();
        Map<String, String> etags = new HashMap<>();
        Map<String, SyncVerdict> verdicts = new HashMap<>();
        // The index queue is read beside the records: it only tells a pending file's job apart from
        // a lost one, so the records are listed as if none had a job, then corrected.
        Future<Set<String>> queued = stores.indexQueue().filesIn(tenant, partition);
        Future<List<Listings.Meta>> listedMetas =
                all(after -> stores.metadata().list(FileQuery.partition(tenant, partition), after, pageSize), r -> {
                    if (r.status() == FileRecord.Status.ACTIVE) {
                        etags.put(r.id(), r.blobEtag() == null ? "" : r.blobEtag());
                    }
                    if (r.sync() != null) {
                        verdicts.put(r.id(), r.sync());
                    }
                    return meta(r, Set.of());
                });
        Future<List<Listings.Meta>> metas =
                Future.all(queued, listedMetas).map(v -> queuedJobs(listedMetas.result(), queued.result()));
        Future<Listed> listed = objects(tenant, partition);
        AtomicInteger foreignPoints = new AtomicInteger();
        Future<List<Listings.Point>> points = all(
                offset -> stores.vectors().scroll(tenant, partition, offset, pageSize),
                p -> new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model()),
                foreignPoints);
        Future<List<Listings.Blob>> blobs = Future.all(metas, listed, known)
                .compose(v -> deep
                        ? rehash(listed.result().files())
                        : checksums(listed.result().files(), etags, known.result(), reused));
        return Future.all(metas, blobs, points)
                .map(v -> new Read(
                        new Listings.Partition(metas.result(), blobs.result(), points.result()),
                        verdicts,
                        reused,
                        listed.result().foreign(),
                        foreignPoints.get()));
    }

    /** A quick check's view of a partition: the sampled files in full, everything else only for orphans. */
    record Quick(Listings.Partition listings, Set<String> sampled, List<String> foreign, int foreignPoints) {}

    /**
     * A quick check of one partition: every listing is read (orphans and leftovers of deleted files
     * need no sample), but only the sampled active files are compared, with their content re-hashed;
     * the other active files are left out of the listings.
     */
    Future<Quick> readQuick(String tenant, int partition, Sample sample) {
        Future<List<FileRecord>> records =
                all(after -> stores.metadata().list(FileQuery.partition(tenant, partition), after, pageSize), r -> r);
        Future<Set<String>> queued = stores.indexQueue().filesIn(tenant, partition);
        Future<Listed> listed = objects(tenant, partition);
        AtomicInteger foreignPoints = new AtomicInteger();
        Future<List<Listings.Point>> points = all(
                offset -> stores.vectors().scroll(tenant, partition, offset, pageSize),
                p -> new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model()),
                foreignPoints);
        return Future.all(records, listed, points, queued).compose(v -> {
            Set<String> active = new HashSet<>();
            Set<String> sampled = new HashSet<>();
            List<Listings.Meta> metas = new ArrayList<>();
            for (FileRecord r : records.result()) {
                boolean live = r.status() == FileRecord.Status.ACTIVE;
                if (live) {
                    active.add(r.id());
                }
                if (live && sample.contains(r.id())) {
                    sampled.add(r.id());
                }
                if (!live || sampled.contains(r.id())) {
                    metas.add(meta(r, queued.result()));
                }
            }
            Predicate<String> shown = id -> !active.contains(id) || sampled.contains(id);
            List<BlobInfo> toHash = new ArrayList<>();
            List<Listings.Blob> others = new ArrayList<>();
            for (BlobInfo info : listed.result().files()) {
                String id = fileIdOf(info.key());
                if (sampled.contains(id)) {
                    toHash.add(info);
                } else if (shown.test(id)) {
                    others.add(new Listings.Blob(id, info.size(), null));
                }
            }
            List<Listings.Point> kept =
                    points.result().stream().filter(p -> shown.test(p.fileId())).toList();
            return rehash(toHash).map(hashed -> {
                List<Listings.Blob> blobs = new ArrayList<>(others);
                blobs.addAll(hashed);
                return new Quick(
                        new Listings.Partition(metas, blobs, kept),
                        sampled,
                        listed.result().foreign(),
                        foreignPoints.get());
            });
        });
    }

    /**
     * The sha256 metadata of the objects whose content may have changed since it was written: those
     * of an active record whose ETag differs from (or was never recorded with) the listing's. An
     * object with the recorded ETag has the content ingest verified; an orphan needs no checksum.
     * So a full scan of an unchanged tenant reads listings only. An object whose sha256 {@code known}
     * holds (an open issue hashed it, and it is unchanged since) has that one; its file is added to
     * {@code reused}.
     */
    private Future<List<Listings.Blob>> checksums(
            List<BlobInfo> objects, Map<String, String> etags, KnownContent known, Set<String> reused) {
        List<Listings.Blob> out = new ArrayList<>(objects.size());
        List<Future<Void>> heads = new ArrayList<>();
        for (BlobInfo info : objects) {
            String fileId = fileIdOf(info.key());
            String recorded = etags.get(fileId);
            Listings.Version version = version(info);
            String knownSha = recorded == null ? null : known.sha256(fileId, version);
            if (knownSha != null) {
                reused.add(fileId);
                out.add(new Listings.Blob(fileId, info.size(), knownSha, version));
            } else if (recorded != null && !sameEtag(recorded, info.etag())) {
                int index = out.size();
                out.add(null);
                heads.add(stores.blobs()
                        .head(info.key())
                        .map(h -> out.set(index, new Listings.Blob(fileId, h.size(), h.sha256(), version(h))))
                        .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(e))
                        .mapEmpty());
            } else {
                out.add(new Listings.Blob(fileId, info.size(), null, version));
            }
        }
        return Future.all(heads).map(v -> out.stream().filter(Objects::nonNull).toList());
    }

    /** {@code metas} as listed with no job queued, each pending file whose job {@code queued} holds told so. */
    private static List<Listings.Meta> queuedJobs(List<Listings.Meta> metas, Set<String> queued) {
        if (queued.isEmpty()) {
            return metas;
        }
        List<Listings.Meta> out = new ArrayList<>(metas.size());
        for (Listings.Meta m : metas) {
            out.add(
                    Listings.Meta.LOST.equals(m.indexing()) && queued.contains(m.fileId())
                            ? m.withIndexing(Listings.Meta.PENDING)
                            : m);
        }
        return out;
    }

    /** Which object {@code info} describes. */
    static Listings.Version version(BlobInfo info) {
        return Listings.Version.of(info.etag(), info.size(), info.lastModified());
    }

    static boolean sameEtag(String a, String b) {
        return a != null && b != null && !a.isEmpty() && unquote(a).equals(unquote(b));
    }

    private static String unquote(String etag) {
        return etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2
                ? etag.substring(1, etag.length() - 1)
                : etag;
    }

    /** {@code queued}: the partition's files that have a job in the index queue. */
    static Listings.Meta meta(FileRecord r, Set<String> queued) {
        if (r.status() == FileRecord.Status.UNREADABLE) {
            return Listings.Meta.unreadable(r.id(), r.name(), r.unreadable());
        }
        FileRecord.Embedding e = r.embedding();
        String indexing =
                e == null || !e.pending() ? null : queued.contains(r.id()) ? Listings.Meta.PENDING : Listings.Meta.LOST;
        return new Listings.Meta(
                r.id(),
                r.name(),
                r.status() == FileRecord.Status.DELETED,
                r.size(),
                r.sha256(),
                e == null ? 0 : e.chunks(),
                e == null ? null : e.contentSha256(),
                e == null ? null : e.model(),
                attention(r),
                e == null ? null : e.failure(),
                indexing,
                null);
    }

    /** The reason a repair left the file to a person, from its {@code sync.attention}; null when none. */
    static String attention(FileRecord r) {
        return r.sync() == null ? null : r.sync().attentionReason();
    }

    /**
     * The partition's objects, but for folder markers (a key ending in {@code /}, which S3 consoles
     * make for a "folder"): they hold no file, and their key names none. An object whose key is not
     * {@code {tenant}/{partition}/{file id}} is another program's: a WARN names it, and it is
     * returned apart.
     */
    private Future<Listed> objects(String tenant, int partition) {
        String prefix = StoreKeys.blobPrefix(tenant, partition);
        return all(token -> stores.blobs().list(prefix, token, pageSize, false), info -> info)
                .map(objects -> {
                    List<BlobInfo> files = new ArrayList<>();
                    List<String> foreign = new ArrayList<>();
                    for (BlobInfo info : objects) {
                        if (info.key().endsWith("/")) {
                            continue;
                        }
                        if (StoreKeys.isFileId(info.key().substring(prefix.length()))) {
                            files.add(info);
                        } else {
                            foreign.add(info.key());
                            LOG.warn(
                                    "S3 object {} lies under tenant {}'s partition {} but its key names no file"
                                            + " (trisync writes {tenant}/{partition}/{file id}): reported apart"
                                            + " (foreign_objects), never repaired; move it by hand if it does not"
                                            + " belong there",
                                    info.key(),
                                    tenant,
                                    partition);
                        }
                    }
                    return new Listed(files, foreign);
                });
    }

    private static String fileIdOf(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** Deep scan: the sha256 of each object's bytes, one object at a time, hashed as they stream. */
    private Future<List<Listings.Blob>> rehash(List<BlobInfo> objects) {
        List<Listings.Blob> done = new ArrayList<>();
        return Lanes.inOrder(objects, b -> stores.blobs()
                        .hash(b.key())
                        .map(hashed ->
                                done.add(new Listings.Blob(fileIdOf(b.key()), b.size(), hashed.sha256(), version(b)))))
                .map(v -> done);
    }

    /** Follows a paged listing to its end, mapping each item. */
    private static <T, R> Future<List<R>> all(Function<String, Future<Page<T>>> page, Function<T, R> map) {
        return all(page, map, new AtomicInteger());
    }

    /** Follows a paged listing to its end, mapping each item and adding up what it left out as not trisync's. */
    private static <T, R> Future<List<R>> all(
            Function<String, Future<Page<T>>> page, Function<T, R> map, AtomicInteger foreign) {
        List<R> out = new ArrayList<>();
        return next(page, map, null, out, foreign).map(out);
    }

    private static <T, R> Future<Void> next(
            Function<String, Future<Page<T>>> page,
            Function<T, R> map,
            String token,
            List<R> out,
            AtomicInteger foreign) {
        return page.apply(token).compose(p -> {
            p.items().forEach(i -> out.add(map.apply(i)));
            foreign.addAndGet(p.foreign());
            return p.next() == null ? Future.succeededFuture() : next(page, map, p.next(), out, foreign);
        });
    }
}
