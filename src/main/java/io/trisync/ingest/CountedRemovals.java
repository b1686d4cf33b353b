package io.trisync.ingest;

import io.trisync.concurrent.Lanes;
import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.Stores;
import io.trisync.store.TenantErasures.Erasure;
import io.trisync.store.TenantErasures.Pending;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The removals of one run of a tenant's erasure, each counted on the erasure's document so that
 * what the whole erasure removed survives a crash: before a step (a page of objects, the records of
 * one kind) the run records it as pending, after it adds what it removed and clears the pending step
 * in one write. The next run first counts what a run cut off in a pending step removed (the pending
 * objects that are gone, the records fewer than before). Every write is fenced by the run's
 * operation: a run another one took over stops with 409.
 */
final class CountedRemovals {

    /** Objects looked up at once when a cut-off page of deletes is counted. */
    private static final int HEADS = 16;

    private final Stores stores;
    private final String tenant;
    private final String opId;
    private final int page;
    private final AtomicLong blobs;

    /** The removals of run {@code opId} of the erasure {@code erasure}, deleting {@code page} objects at a time. */
    CountedRemovals(Stores stores, Erasure erasure, String opId, int page) {
        this.stores = stores;
        this.tenant = erasure.tenantId();
        this.opId = opId;
        this.page = page;
        this.blobs = new AtomicLong(erasure.blobsRemoved());
    }

    /** Blobs the erasure has removed so far, in every run. */
    long blobs() {
        return blobs.get();
    }

    /** Counts what the run cut off in {@code pending} removed (nothing when null). */
    Future<Void> settle(Pending pending) {
        if (pending == null) {
            return Future.succeededFuture();
        }
        if (pending.blobKeys() != null) {
            AtomicLong gone = new AtomicLong();
            return Lanes.forEach(
                            pending.blobKeys(),
                            HEADS,
                            key -> stores.blobs().head(key).<Void>mapEmpty().recover(e -> {
                                if (e instanceof Failure.NotFound) {
                                    gone.incrementAndGet();
                                    return Future.succeededFuture();
                                }
                                return Future.failedFuture(e);
                            }))
                    .compose(v -> count(Erasure.BLOBS, gone.get()))
                    .onSuccess(v -> blobs.addAndGet(gone.get()));
        }
        return stores.erasures()
                // Neither the cut run's records nor this run's (its operation, its events) were removed.
                .countRecords(tenant, pending.records(), List.of(pending.keepOpId(), opId))
                .compose(now -> count(records(pending.records()), Math.max(0, pending.before() - now)));
    }

    /** Deletes every object under {@code prefix}, a page at a time, until none is listed. */
    Future<Void> removeBlobs(String prefix) {
        return stores.blobs().list(prefix, null, page, false).compose(listed -> {
            if (listed.items().isEmpty()) {
                return Future.succeededFuture();
            }
            List<String> keys = listed.items().stream().map(BlobInfo::key).toList();
            return fenced(stores.erasures().pending(tenant, opId, Pending.blobs(keys)))
                    .compose(v -> stores.blobs().deleteAll(keys))
                    .compose(done -> {
                        if (!done.failed().isEmpty()) {
                            return Future.failedFuture(
                                    new Failure.Unavailable("s3", "objects not deleted: " + done.failed(), null));
                        }
                        return count(Erasure.BLOBS, done.deleted().size())
                                .onSuccess(v -> blobs.addAndGet(done.deleted().size()));
                    })
                    .compose(v -> removeBlobs(prefix));
        });
    }

    /** Removes every record of the tenant but those of this run's operation, one kind after another. */
    Future<Void> removeRecords() {
        Future<Void> chain = Future.succeededFuture();
        for (String kind : stores.erasures().recordKinds()) {
            chain = chain.compose(v -> stores.erasures()
                    .countRecords(tenant, kind, opId)
                    .compose(before ->
                            fenced(stores.erasures().pending(tenant, opId, Pending.records(kind, before, opId))))
                    .compose(v2 -> stores.erasures().removeRecords(tenant, kind, opId))
                    .compose(removed -> count(records(kind), removed)));
        }
        return chain;
    }

    private Future<Void> count(String what, long n) {
        return fenced(stores.erasures().counted(tenant, opId, what, n));
    }

    private Future<Void> fenced(Future<Boolean> write) {
        return write.compose(ours -> ours
                ? Future.succeededFuture()
                : Future.failedFuture(new Failure.Conflict(
                        "the erasure of tenant " + tenant + " is run by another operation than " + opId)));
    }

    private static String records(String kind) {
        return Erasure.RECORDS + "." + kind;
    }
}
