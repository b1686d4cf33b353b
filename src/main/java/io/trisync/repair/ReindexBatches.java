package io.trisync.repair;

import io.trisync.concurrent.Lanes;
import io.trisync.concurrent.MemoryBudget;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.failure.Failure;
import io.trisync.repair.RepairMessages.ReindexDone;
import io.trisync.repair.RepairMessages.ReindexPartition;
import io.trisync.store.BlobStore;
import io.trisync.store.Buffers;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.ReindexCheckpoints;
import io.trisync.store.ReindexCheckpoints.Skipped;
import io.trisync.store.Retry;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.store.VectorSpaces;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition of a re-index on the node that runs it: from its checkpoint if one was left for this
 * model and scope, in batches of files in id order sized by {@link BatchSizer}, each batch read from
 * S3, re-embedded, upserted and patched, with a checkpoint after every batch.
 */
final class ReindexBatches {

    private static final Logger LOG = LoggerFactory.getLogger(ReindexBatches.class);
    /** Blobs of a batch read (and chunked) at once. */
    private static final int PARALLEL_READS = 8;
    /** Points to a Qdrant upsert, and upserts of a batch in flight at once. */
    private static final int UPSERT_BATCH = 256;

    private static final int PARALLEL_UPSERTS = 4;

    /** Files larger than this are re-embedded alone, a batch of chunks at a time ({@link #alone}). */
    static final long ALONE_BYTES = 256 * 1024;

    private static final int FIRST_BATCH = 8;
    private static final int MAX_BATCH = 512;

    private final Vertx vertx;
    private final TrisyncConfig config;
    private final Stores stores;
    private final EmbeddingModel model;
    private final ContentIndexer indexer;
    private final WorkerExecutor embeddingPool;
    /** A batch's upsert is tried again while Qdrant fails retriably, as an upload's is. */
    private final Retry retry;

    ReindexBatches(
            Vertx vertx,
            TrisyncConfig config,
            Stores stores,
            EmbeddingModel model,
            ContentIndexer indexer,
            WorkerExecutor embeddingPool) {
        this.vertx = vertx;
        this.config = config;
        this.stores = stores;
        this.model = model;
        this.indexer = indexer;
        this.embeddingPool = embeddingPool;
        this.retry = Retry.forWrites(vertx);
    }

    /** Whether {@code r} is re-embedded: active, indexed (not pending, not failed) and by another model unless {@code all}. */
    static boolean due(FileRecord r, boolean all, String modelName) {
        FileRecord.Embedding e = r.embedding();
        return r.status() == FileRecord.Status.ACTIVE
                && e != null
                && !e.pending()
                && e.failure() == null
                && (all || !modelName.equals(e.model()));
    }

    /** One partition, from its checkpoint if one was left for this model and scope. */
    Future<JsonObject> partition(ReindexPartition job) {
        if (job.model() != null && !job.model().equals(model.name())) {
            // A node configured for another model (a rolling restart) would re-embed the files back.
            return Future.failedFuture(new Failure.Conflict("node " + config.nodeId() + " embeds with " + model.name()
                    + ", not " + job.model() + ": restart it with the new embedding configuration"));
        }
        return stores.checkpoints()
                .get(job.tenantId(), job.partition())
                .compose(cp -> cp != null && cp.resumes(model.name(), job.all())
                        ? settled(stores, cp, model.name())
                        : Future.succeededFuture(cp))
                .compose(cp -> {
                    boolean valid = cp != null && cp.resumes(model.name(), job.all());
                    if (valid && cp.done()) {
                        return Future.succeededFuture(ReindexDone.NONE.toJson());
                    }
                    String after = valid ? cp.lastFileId() : null;
                    if (valid) {
                        LOG.info(
                                "Re-index of {} partition {} resumes after file {}",
                                job.tenantId(),
                                job.partition(),
                                after);
                    }
                    // The checkpoint goes on counting what the runs before this one did.
                    ReindexDone before = valid ? ReindexDone.of(cp) : ReindexDone.NONE;
                    List<String> runs = new ArrayList<>(valid ? cp.runs() : List.of());
                    if (!runs.contains(job.opId())) {
                        runs.add(job.opId());
                    }
                    BatchSizer sizer =
                            new BatchSizer(config.embedding().reindexTargetBatchMs(), 1, MAX_BATCH, FIRST_BATCH);
                    Promise<ReindexDone> done = Promise.promise();
                    batches(job, new Resumed(before, List.copyOf(runs)), after, sizer, ReindexDone.NONE, done);
                    return done.future().map(ReindexDone::toJson);
                });
    }

    /** {@code c} with its pending batch settled ({@link ReindexTally#settle}): its files read now. */
    static Future<ReindexCheckpoints.Checkpoint> settled(
            Stores stores, ReindexCheckpoints.Checkpoint c, String modelName) {
        if (c.pending().isEmpty() || c.all()) {
            return Future.succeededFuture(c);
        }
        return stores.metadata().getAll(c.pending()).map(now -> ReindexTally.settle(c, now, modelName));
    }

    /** What a partition's checkpoint held when this run took it up, and the runs that made it (this one last). */
    private record Resumed(ReindexDone before, List<String> runs) {}

    /**
     * The partition's batches after {@code after}; {@code sofar}: what this run did in it. Each
     * checkpoint counts the work of every run up to its file ({@code resumed} and {@code sofar}) in the
     * same write as the file, so a run that goes on from it counts from there exactly; {@code done}
     * completes with this run's own work.
     */
    private void batches(
            ReindexPartition job,
            Resumed resumed,
            String after,
            BatchSizer sizer,
            ReindexDone sofar,
            Promise<ReindexDone> done) {
        long t = System.nanoTime();
        int size = sizer.size();
        stores.syncOperations()
                .get(job.opId())
                .compose(op -> op == null || op.status() != SyncOperation.Status.RUNNING
                        ? Future.failedFuture(new Failure.Conflict("re-index " + job.opId() + " is no longer running"))
                        : stores.metadata().list(FileQuery.partition(job.tenantId(), job.partition()), after, size))
                .compose(page -> pending(job, resumed, after, sofar, page)
                        .compose(v -> batch(job, page))
                        .compose(b -> {
                            String last = page.items().isEmpty()
                                    ? after
                                    : page.items().get(page.items().size() - 1).id();
                            boolean end = page.next() == null;
                            int next = sizer.took(page.items().size(), (System.nanoTime() - t) / 1_000_000);
                            ReindexDone total = sofar.plus(b, next);
                            ReindexDone counted = resumed.before().plus(total, 0);
                            return stores.checkpoints()
                                    .save(checkpoint(job, resumed, last, end, counted, List.of()))
                                    .map(v -> {
                                        vertx.eventBus().send(RepairAddresses.reindexProgress(job.opId()), b.toJson());
                                        if (end) {
                                            done.complete(total);
                                        } else {
                                            batches(job, resumed, last, sizer, total, done);
                                        }
                                        return null;
                                    });
                        }))
                .onFailure(done::fail);
    }

    /**
     * Before a page's records are patched: the checkpoint where it stands, naming the page's due files
     * as pending, so a run that goes on from it after a kill counts those the page patched.
     */
    private Future<Void> pending(
            ReindexPartition job, Resumed resumed, String after, ReindexDone sofar, Page<FileRecord> page) {
        List<String> due = page.items().stream()
                .filter(r -> due(r, job.all(), model.name()))
                .map(FileRecord::id)
                .toList();
        if (due.isEmpty() || job.all()) {
            // Over all files a run that goes on re-embeds the page's again, and counts them then.
            return Future.succeededFuture();
        }
        ReindexDone counted = resumed.before().plus(sofar, 0);
        return stores.checkpoints().save(checkpoint(job, resumed, after, false, counted, due));
    }

    /** The partition's checkpoint at file {@code last}, counting {@code counted} over every run. */
    private ReindexCheckpoints.Checkpoint checkpoint(
            ReindexPartition job,
            Resumed resumed,
            String last,
            boolean end,
            ReindexDone counted,
            List<String> pending) {
        return new ReindexCheckpoints.Checkpoint(
                job.tenantId(),
                job.partition(),
                model.name(),
                job.all(),
                last,
                end,
                counted.files(),
                counted.chunks(),
                counted.skipped(),
                counted.skippedFiles(),
                resumed.runs(),
                pending);
    }

    /**
     * Re-embeds the due files of one page: the small ones together ({@link #together}), then each
     * large one alone ({@link #alone}); the points upserted 256 to a request, the old model's extra
     * chunks deleted by id, and the records patched, each only if it still holds the content that was
     * embedded.
     */
    private Future<ReindexDone> batch(ReindexPartition job, Page<FileRecord> page) {
        List<FileRecord> due = page.items().stream()
                .filter(r -> due(r, job.all(), model.name()))
                .toList();
        List<FileRecord> small =
                due.stream().filter(r -> r.size() <= ALONE_BYTES).toList();
        List<FileRecord> large =
                due.stream().filter(r -> r.size() > ALONE_BYTES).toList();
        // Files not due (already made by the model, pending, failed) are outside the re-index's scope: not counted.
        ReindexDone[] done = {ReindexDone.NONE};
        Future<Void> together =
                small.isEmpty() ? Future.succeededFuture() : together(small).map(d -> add(done, d));
        // One large file after another: each is read, and its points made, while no other is held.
        return together.compose(v -> Lanes.inOrder(large, r -> alone(r).map(d -> add(done, d))))
                .map(v -> done[0]);
    }

    private static Void add(ReindexDone[] sum, ReindexDone more) {
        sum[0] = sum[0].plus(more, 0);
        return null;
    }

    /**
     * Small files re-embedded together: their contents read from S3 a few at a time and chunked,
     * every chunk embedded in one call (the provider sends {@code EMBEDDING_BATCH_SIZE} to a request).
     */
    private Future<ReindexDone> together(List<FileRecord> due) {
        ContentIndexer.Prepared[] prepared = new ContentIndexer.Prepared[due.size()];
        return Lanes.forEach(Lanes.range(due.size()), PARALLEL_READS, i -> {
                    FileRecord r = due.get(i);
                    return stores.blobs()
                            .read(StoreKeys.blobKey(r.tenantId(), r.partition(), r.id()))
                            .recover(error -> contentMissing(r, error).map((BlobStore.Content) null))
                            .compose(content -> content == null
                                    ? Future.succeededFuture()
                                    : embeddingPool
                                            .executeBlocking(
                                                    () -> indexer.prepare(Buffers.view(content.bytes()), target(r)))
                                            .map(p -> {
                                                prepared[i] = p;
                                                return (Void) null;
                                            }));
                })
                .compose(v -> {
                    List<FileRecord> read = new ArrayList<>();
                    List<ContentIndexer.Prepared> ready = new ArrayList<>();
                    List<Skipped> missing = new ArrayList<>();
                    for (int i = 0; i < due.size(); i++) {
                        if (prepared[i] != null) {
                            read.add(due.get(i));
                            ready.add(prepared[i]);
                        } else {
                            missing.add(new Skipped(due.get(i).id(), Skipped.CONTENT_MISSING));
                        }
                    }
                    if (read.isEmpty()) {
                        return Future.succeededFuture(ReindexDone.skipping(missing));
                    }
                    return embeddingPool
                            .executeBlocking(() -> indexer.indexAll(ready))
                            .compose(indexed -> {
                                List<ChunkPoint> points = new ArrayList<>();
                                List<Integer> chunks = new ArrayList<>();
                                for (ContentIndexer.Indexed one : indexed) {
                                    chunks.add(
                                            one.failed() ? null : one.points().size());
                                    points.addAll(one.points());
                                }
                                return write(read, chunks, points);
                            })
                            .map(d -> ReindexDone.skipping(missing).plus(d, 0));
                });
    }

    /**
     * A file whose content S3 does not hold (deleted behind trisync's back, or with the file since the
     * page was read) is left out of the re-index, logged; a scan reports it ({@code MISSING_BLOB}) and
     * a repair restores it. Before, one such file failed every run of the tenant's re-index.
     */
    private static Future<Void> contentMissing(FileRecord r, Throwable error) {
        // The object, not the bucket: a missing bucket (NoSuchBucket, a misconfiguration) fails the run.
        if (!(error instanceof Failure.NotFound)
                || !String.valueOf(error.getMessage()).contains("NoSuchKey")) {
            return Future.failedFuture(error);
        }
        LOG.warn(
                "Re-index leaves out file {} of tenant {}: its content is missing from S3 ({}); a scan reports it",
                r.id(),
                r.tenantId(),
                error.getMessage());
        return Future.succeededFuture();
    }

    /**
     * A large file re-embedded alone, its points upserted {@value #UPSERT_BATCH} at a time as they
     * are made ({@link ContentIndexer#stream}): its chunks, vectors and points are never all held.
     * Each batch is written only while the file is {@link #writable}: once it is not, the stream stops,
     * the batches written go ({@link #withdrawn}) and the file is left out as changed.
     */
    private Future<ReindexDone> alone(FileRecord r) {
        ContentIndexer.PointSink upsert =
                ContentIndexer.PointSink.on(vertx.getOrCreateContext(), batch -> writable(List.of(r))
                        .compose(ok -> ok.contains(r.id())
                                ? retry.run(() -> stores.vectors().upsert(batch))
                                : Future.failedFuture(new Changed(r.id()))));
        Future<ContentIndexer.Streamed> embedded = MemoryBudget.HEAP.holding(r.size(), () -> stores.blobs()
                .read(StoreKeys.blobKey(r.tenantId(), r.partition(), r.id()))
                .recover(error -> contentMissing(r, error).map((BlobStore.Content) null))
                .compose(content -> content == null
                        ? Future.succeededFuture()
                        : embeddingPool.executeBlocking(
                                () -> indexer.stream(Buffers.view(content.bytes()), target(r), UPSERT_BATCH, upsert))));
        return embedded.transform(result -> {
            if (result.failed() && result.cause() instanceof Changed) {
                return withdrawn(r).map(ReindexDone.skipping(List.of(new Skipped(r.id(), Skipped.CHANGED))));
            }
            if (result.failed()) {
                return Future.failedFuture(result.cause());
            }
            ContentIndexer.Streamed streamed = result.result();
            if (streamed == null) {
                return Future.succeededFuture(
                        ReindexDone.skipping(List.of(new Skipped(r.id(), Skipped.CONTENT_MISSING))));
            }
            if (streamed.failed() && streamed.written() > 0) {
                LOG.warn(
                        "File {} was refused by the embedding model after {} of its points were re-embedded: {}",
                        r.id(),
                        streamed.written(),
                        streamed.failure());
            }
            List<Integer> chunks = new ArrayList<>();
            chunks.add(streamed.failed() ? null : streamed.chunks());
            return write(List.of(r), chunks, List.of());
        });
    }

    /** A batch of a large file's points refused: the file changed, or an ingest operation holds it. */
    private static final class Changed extends RuntimeException {
        Changed(String fileId) {
            super("file " + fileId + " changed while it was re-embedded", null, false, false);
        }
    }

    /**
     * Of {@code files} (as their page was read), the ids of those whose points may be written now: the
     * record still active with the content that was read, and no upload, new version or delete holding
     * the file. A new version's points share the ids of the old content's: written over them after it
     * moved its points (or after its whole write, the record then naming the new content), the
     * re-index's points took their place, and the withdrawal of those that followed left the new
     * version without vectors. The open operations are read first: one that begins after that read
     * changes the record before it writes a point, and a record read after it shows that change.
     */
    private Future<Set<String>> writable(List<FileRecord> files) {
        if (files.isEmpty()) {
            return Future.succeededFuture(Set.of());
        }
        List<String> ids = files.stream().map(FileRecord::id).toList();
        return stores.operations()
                .openAmong(ids)
                .compose(held -> stores.metadata().getAll(ids).map(now -> {
                    Map<String, String> read = new HashMap<>();
                    files.forEach(r -> read.put(r.id(), r.sha256()));
                    Set<String> ok = new HashSet<>();
                    for (FileRecord r : now) {
                        if (!held.contains(r.id())
                                && r.status() == FileRecord.Status.ACTIVE
                                && r.sha256().equals(read.get(r.id()))) {
                            ok.add(r.id());
                        }
                    }
                    return ok;
                }));
    }

    /**
     * Removes the points of {@code r}'s content as read that a stopped re-embedding wrote, unless an
     * ingest operation holds the file (it writes or removes the file's points itself; what is left is
     * a scan's) or the record names that content after all.
     */
    private Future<Void> withdrawn(FileRecord r) {
        return stores.operations()
                .openFor(r.id())
                .compose(open -> open != null
                        ? Future.succeededFuture(true)
                        : stores.metadata()
                                .get(r.id())
                                .map(now -> now.status() == FileRecord.Status.ACTIVE
                                        && now.sha256().equals(r.sha256()))
                                .recover(error -> error instanceof Failure.NotFound
                                        ? Future.succeededFuture(false)
                                        : Future.failedFuture(error)))
                .compose(keep -> keep
                        ? Future.<Void>succeededFuture()
                        : stores.vectors().deleteContent(r.tenantId(), r.id(), r.sha256()));
    }

    private static ContentIndexer.Target target(FileRecord r) {
        return new ContentIndexer.Target(r.tenantId(), r.id(), r.partition(), r.sha256(), r.contentType(), r.name());
    }

    /**
     * Writes a batch's points (none when they were written as they were made), then checks the
     * records: a file deleted or changed meanwhile loses the points just written; the others are
     * patched in one bulk write by id (an update filtered by id alone, which the embedded MongoDB
     * answers from its index; a filter with more fields would scan the collection once per file
     * there). A delete landing after the check removes the file's points itself (the new ones
     * included); it leaves only the embedding fields on its record. {@code chunks}: each due file's
     * new chunk count, null when its text could not be extracted or was refused (it is left as it is).
     */
    private Future<ReindexDone> write(List<FileRecord> due, List<Integer> chunks, List<ChunkPoint> points) {
        // Only files still as read, and held by no ingest operation, get points (see writable).
        return writable(due).compose(ok -> {
            List<FileRecord> kept = new ArrayList<>();
            List<Integer> keptChunks = new ArrayList<>();
            List<Skipped> changed = new ArrayList<>();
            for (int i = 0; i < due.size(); i++) {
                if (ok.contains(due.get(i).id())) {
                    kept.add(due.get(i));
                    keptChunks.add(chunks.get(i));
                } else {
                    LOG.info(
                            "File {} changed while it was re-embedded, or an upload, new version or delete holds it: left out",
                            due.get(i).id());
                    changed.add(new Skipped(due.get(i).id(), Skipped.CHANGED));
                }
            }
            List<ChunkPoint> keptPoints =
                    points.stream().filter(p -> ok.contains(p.fileId())).toList();
            // A large file's points were written as they were made: those go (a small file's were not written).
            Future<Void> withdrawn = Future.all(due.stream()
                            .filter(r -> !ok.contains(r.id()) && r.size() > ALONE_BYTES)
                            .map(this::withdrawn)
                            .toList())
                    .mapEmpty();
            return withdrawn
                    .compose(v -> kept.isEmpty()
                            ? Future.succeededFuture(ReindexDone.NONE)
                            : writeChecked(kept, keptChunks, keptPoints))
                    .map(d -> d.plus(ReindexDone.skipping(changed), 0));
        });
    }

    /** {@link #write} of files found {@link #writable} just before. */
    private Future<ReindexDone> writeChecked(List<FileRecord> due, List<Integer> chunks, List<ChunkPoint> points) {
        List<UUID> extra = new ArrayList<>();
        VectorSpaces.Space migrating = stores.vectors().retiring();
        Map<String, Integer> chunksOf = new HashMap<>();
        long made = 0;
        for (int i = 0; i < due.size(); i++) {
            FileRecord r = due.get(i);
            Integer count = chunks.get(i);
            if (count == null) {
                continue;
            }
            chunksOf.put(r.id(), count);
            made += count;
            // Point ids derive from (file, chunk): new points replace old ones in place; only chunks
            // past the new count (the old text made more) are deleted, by id. While the dimension
            // changes the new points go to a collection of their own, and the old ones stay serving.
            for (int c = count; migrating == null && c < r.embedding().chunks(); c++) {
                extra.add(StoreKeys.chunkPointId(r.id(), c));
            }
        }
        long chunksMade = made;
        Map<String, String> embedded = new HashMap<>();
        due.forEach(r -> embedded.put(r.id(), r.sha256()));
        int batches = (points.size() + UPSERT_BATCH - 1) / UPSERT_BATCH;
        return Lanes.forEach(Lanes.range(batches), PARALLEL_UPSERTS, b -> stores.vectors()
                        .upsert(points.subList(b * UPSERT_BATCH, Math.min(points.size(), (b + 1) * UPSERT_BATCH))))
                .compose(v -> extra.isEmpty()
                        ? Future.succeededFuture()
                        : stores.vectors().delete(extra))
                .compose(v -> stores.metadata().getAll(List.copyOf(chunksOf.keySet())))
                .compose(now -> {
                    List<MetadataStore.Patch> patches = new ArrayList<>();
                    Set<String> kept = new HashSet<>();
                    for (FileRecord r : now) {
                        if (r.status() == FileRecord.Status.ACTIVE && r.sha256().equals(embedded.get(r.id()))) {
                            kept.add(r.id());
                            patches.add(new MetadataStore.Patch(
                                    r.id(),
                                    new JsonObject(),
                                    FileRecord.Embedding.indexedFields(
                                            model.name(), model.dimension(), chunksOf.get(r.id()), r.sha256())));
                        }
                    }
                    List<Future<Void>> gone = new ArrayList<>();
                    List<Skipped> left = new ArrayList<>();
                    for (FileRecord r : due) {
                        if (!chunksOf.containsKey(r.id())) {
                            left.add(new Skipped(r.id(), Skipped.REFUSED));
                        } else if (!kept.contains(r.id())) {
                            LOG.info("File {} changed while it was re-embedded; its new points are removed", r.id());
                            left.add(new Skipped(r.id(), Skipped.CHANGED));
                            // Only the points made here: a new version's (the same ids) stay.
                            gone.add(stores.vectors().deleteContent(r.tenantId(), r.id(), embedded.get(r.id())));
                        }
                    }
                    return Future.all(gone)
                            .compose(v -> stores.metadata().patchAll(patches))
                            .map(matched -> new ReindexDone(patches.size(), chunksMade, 0, List.of(), 0)
                                    .plus(ReindexDone.skipping(left), 0));
                });
    }
}
