package io.trisync.repair;

import io.trisync.bus.ClusterBus;
import io.trisync.bus.RequestVerticle;
import io.trisync.concurrent.Lanes;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TrackedOperation;
import io.trisync.repair.RepairMessages.ReindexDone;
import io.trisync.repair.RepairMessages.ReindexPartition;
import io.trisync.repair.RepairMessages.ReindexRequest;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanMessages.PartitionRequest;
import io.trisync.scan.ScanReport;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.MetadataStore;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code reindex} operation kind: re-embeds every file of a tenant that another model made (or
 * every file, {@code all}) with the model in use, partitions in parallel across the cluster's repair
 * nodes ({@code SYNC_SCAN_PARALLELISM} at once). Each partition goes in batches of files in id order
 * whose size adapts to {@code REINDEX_TARGET_BATCH_MS} ({@link BatchSizer}), with a checkpoint in
 * MongoDB after every batch, so a re-index that was cancelled, timed out or killed resumes where it
 * stopped when started again (a completed one removes its checkpoints). Progress carries files done,
 * chunks a second and the estimated time left. At the end a scan of the tenant's partitions verifies
 * it; the result says what is left ({@code stale_after}, {@code issues_after}). A dry run counts the
 * files and chunks and estimates the time from a measured embedding of sample chunks.
 */
public final class ReindexVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(ReindexVerticle.class);
    /** Blobs of a batch read (and chunked) at once. */
    private static final int PARALLEL_READS = 8;
    /** Points to a Qdrant upsert, and upserts of a batch in flight at once. */
    private static final int UPSERT_BATCH = 256;

    private static final int PARALLEL_UPSERTS = 4;

    private static final int FIRST_BATCH = 8;
    private static final int MAX_BATCH = 512;

    private final TrisyncConfig config;
    private final Stores stores;
    private final EmbeddingModel model;
    private OperationTracker tracker;
    private EventPublisher events;
    private ContentIndexer indexer;
    private WorkerExecutor embeddingPool;

    public ReindexVerticle(TrisyncConfig config, Stores stores, EmbeddingModel model) {
        this.config = config;
        this.stores = stores;
        this.model = model;
    }

    @Override
    public Future<?> start() {
        events = EventPublisher.of(vertx, config, stores);
        tracker = OperationTracker.of(vertx, config, stores, events);
        indexer = new ContentIndexer(model);
        embeddingPool = vertx.createSharedWorkerExecutor(
                "trisync-embedding", Runtime.getRuntime().availableProcessors());
        consume(RepairAddresses.REINDEX_START, body -> start(ReindexRequest.fromJson(body)));
        consume(RepairAddresses.REINDEX_PARTITION, body -> partition(ReindexPartition.fromJson(body)));
        return consumersReady();
    }

    @Override
    public Future<?> stop() {
        return super.stop().eventually(() -> embeddingPool.close());
    }

    /** The files to re-embed and their recorded chunks. */
    private record Scope(long files, long chunks) {}

    private Future<JsonObject> start(ReindexRequest request) {
        String tenant = Ids.require("tenant_id", request.tenantId());
        return scope(tenant, request.all(), null, 0, 0).compose(scope -> {
            if (request.dryRun()) {
                return estimate(scope).map(seconds -> new JsonObject()
                        .put("dry_run", true)
                        .put("tenant_id", tenant)
                        .put("model", model.name())
                        .put("files", scope.files())
                        .put("chunks", scope.chunks())
                        .put("estimated_seconds", seconds));
            }
            return tracker.start(tenant, "reindex", scope.files(), request.actor())
                    .map(op -> {
                        run(op, tenant, request.all(), scope);
                        return op.record().toPublicJson();
                    });
        });
    }

    /** Counts the files to re-embed by walking the tenant's active records in id order. */
    private Future<Scope> scope(String tenant, boolean all, String after, long files, long chunks) {
        return stores.metadata()
                .list(new FileQuery(tenant, null, FileRecord.Status.ACTIVE), after, 1000)
                .compose(page -> {
                    long f = files;
                    long c = chunks;
                    for (FileRecord r : page.items()) {
                        if (due(r, all)) {
                            f++;
                            c += Math.max(
                                    1, r.embedding() == null ? 1 : r.embedding().chunks());
                        }
                    }
                    return page.next() == null
                            ? Future.succeededFuture(new Scope(f, c))
                            : scope(tenant, all, page.next(), f, c);
                });
    }

    /** Seconds the re-index should take: its chunks at the rate measured now on sample chunks. */
    private Future<Long> estimate(Scope scope) {
        if (scope.chunks() == 0) {
            return Future.succeededFuture(0L);
        }
        int sample = (int) Math.min(8, scope.chunks());
        String text = String.join(" ", Collections.nCopies(150, "sample"));
        return embeddingPool.executeBlocking(() -> {
            long t = System.nanoTime();
            model.embed(Collections.nCopies(sample, text));
            double perChunk = (System.nanoTime() - t) / 1e9 / sample;
            return (long) Math.ceil(perChunk * scope.chunks());
        });
    }

    /** Whether {@code r} is re-embedded: active, indexed (not pending, not failed) and by another model unless {@code all}. */
    private boolean due(FileRecord r, boolean all) {
        FileRecord.Embedding e = r.embedding();
        return r.status() == FileRecord.Status.ACTIVE
                && e != null
                && !e.pending()
                && e.failure() == null
                && (all || !model.name().equals(e.model()));
    }

    private void run(TrackedOperation op, String tenant, boolean all, Scope scope) {
        AtomicLong files = new AtomicLong();
        AtomicLong chunks = new AtomicLong();
        long started = System.nanoTime();
        MessageConsumer<JsonObject> progress = vertx.eventBus()
                .consumer(RepairAddresses.reindexProgress(op.record().id()), m -> {
                    ReindexDone batch = ReindexDone.fromJson(m.body());
                    long done = files.addAndGet(batch.files());
                    long made = chunks.addAndGet(batch.chunks());
                    double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
                    double rate = made / seconds;
                    long left = Math.max(0, scope.chunks() - made);
                    op.progress(
                            "updating_embeddings",
                            done,
                            scope.files(),
                            done,
                            Math.round(rate * 10) / 10.0,
                            rate > 0 ? (long) Math.ceil(left / rate) : null);
                });
        int partitions = config.sync().partitions();
        List<ReindexDone> parts = Collections.synchronizedList(new ArrayList<>());
        progress.completion()
                .compose(v ->
                        Lanes.forEach(Lanes.range(partitions), config.sync().scanParallelism(), p -> {
                            if (op.stopped()) {
                                return Future.failedFuture(
                                        "re-index " + op.record().id() + " was ended");
                            }
                            return ClusterBus.of(vertx)
                                    .request(
                                            RepairAddresses.REINDEX_PARTITION,
                                            new ReindexPartition(
                                                            tenant,
                                                            p,
                                                            op.record().id(),
                                                            all,
                                                            model.name())
                                                    .toJson(),
                                            config.sync().maxTimeoutSeconds() * 1000L,
                                            ClusterBus.Target.SPREAD,
                                            true)
                                    .map(reply -> {
                                        parts.add(ReindexDone.fromJson(reply));
                                        return null;
                                    });
                        }))
                .compose(v -> {
                    long embedded = System.nanoTime();
                    return verify(op, tenant).compose(report -> stores.checkpoints()
                            .clear(tenant)
                            .compose(w -> switchIfDone(report))
                            .compose(switched -> {
                                op.progress(
                                        "finalizing",
                                        op.record().progress().totalFiles(),
                                        op.record().progress().totalFiles(),
                                        op.record().filesProcessed());
                                return op.complete(
                                        result(parts, report, started, embedded).mergeIn(switched));
                            }));
                })
                .onComplete(done -> progress.unregister())
                .onFailure(error -> {
                    if (!op.stopped()) {
                        op.fail("re-index stopped: " + error.getMessage()
                                        + " (started again, it resumes from its checkpoints)")
                                .onFailure(e -> LOG.warn(
                                        "Re-index {} could not be failed: {}",
                                        op.record().id(),
                                        e.getMessage()));
                    }
                });
    }

    /**
     * While the embedding dimension changes: once no active file of any tenant has vectors of another
     * model than this node's and this tenant's verification found no stale or missing vectors, the new collection
     * takes over search ({@code switched_to}); else what it waits for ({@code switch_waits_for}, files).
     */
    private Future<JsonObject> switchIfDone(ScanReport report) {
        io.trisync.store.VectorSpaces.Space retiring = stores.vectors().retiring();
        io.trisync.store.VectorSpaces spaces = stores.vectors().spaces();
        if (retiring == null) {
            return Future.succeededFuture(new JsonObject());
        }
        if (!model.name().equals(spaces.target().model())
                || model.dimension() != spaces.target().dims()) {
            // Only a node embedding with the new collection's model may judge it complete.
            return Future.succeededFuture(new JsonObject()
                    .put("switch_waits_for", -1)
                    .put("serving_collection", retiring.collection())
                    .put(
                            "note",
                            "this node embeds with " + model.name() + ", not the new collection's "
                                    + spaces.target().model()));
        }
        return stores.metadata().countEmbeddedByOther(model.name()).compose(left -> {
            JsonObject byType = report.toJson()
                    .getJsonObject("summary", new JsonObject())
                    .getJsonObject("issues_by_type", new JsonObject());
            long vectorIssues = byType.getLong("STALE_VECTORS", 0L)
                    + byType.getLong("MISSING_VECTORS", 0L)
                    + byType.getLong("MISSING_CHUNKS", 0L);
            if (left > 0 || vectorIssues > 0) {
                return Future.succeededFuture(new JsonObject()
                        .put("switch_waits_for", left)
                        .put("serving_collection", retiring.collection()));
            }
            return stores.vectors().switchToTarget().map(after -> {
                vertx.eventBus()
                        .publish(
                                RepairAddresses.VECTORS_SWITCHED,
                                after.serving().collection());
                return new JsonObject()
                        .put("switched_to", after.serving().collection())
                        .put("retired_collection", retiring.collection());
            });
        });
    }

    /** A scan of every partition of the tenant under the re-index's operation. */
    private Future<ScanReport> verify(TrackedOperation op, String tenant) {
        op.progress("verifying", 0, config.sync().partitions(), op.record().filesProcessed());
        ScanReport report = new ScanReport("tenant:" + tenant, "full");
        return Lanes.forEach(
                        Lanes.range(config.sync().partitions()), config.sync().scanParallelism(), p -> ClusterBus.of(
                                        vertx)
                                .request(
                                        ScanAddresses.PARTITION,
                                        new PartitionRequest(
                                                        tenant,
                                                        p,
                                                        "full",
                                                        op.record().id(),
                                                        null,
                                                        null)
                                                .toJson(),
                                        config.sync().maxTimeoutSeconds() * 1000L,
                                        ClusterBus.Target.SPREAD,
                                        true)
                                .map(reply -> {
                                    report.add(reply);
                                    return null;
                                }))
                .map(report);
    }

    /** {@code started}, {@code embedded}: when the re-index began and when its last partition was done (nanos). */
    private JsonObject result(List<ReindexDone> parts, ScanReport report, long started, long embedded) {
        long files = parts.stream().mapToLong(ReindexDone::files).sum();
        long chunks = parts.stream().mapToLong(ReindexDone::chunks).sum();
        double seconds = Math.max(0.001, (embedded - started) / 1e9);
        double verifying = (System.nanoTime() - embedded) / 1e9;
        JsonObject summary = report.toJson().getJsonObject("summary", new JsonObject());
        JsonObject byType = summary.getJsonObject("issues_by_type", new JsonObject());
        return new JsonObject()
                .put("model", model.name())
                .put("files", files)
                .put("chunks", chunks)
                .put("skipped", parts.stream().mapToLong(ReindexDone::skipped).sum())
                .put("files_per_second", Math.round(files / seconds * 10) / 10.0)
                .put("chunks_per_second", Math.round(chunks / seconds * 10) / 10.0)
                .put(
                        "batch_size",
                        parts.stream().mapToInt(ReindexDone::batchSize).max().orElse(0))
                .put("reembed_seconds", Math.round(seconds * 10) / 10.0)
                .put("verify_seconds", Math.round(verifying * 10) / 10.0)
                .put("stale_after", byType.getLong("STALE_VECTORS", 0L))
                .put("issues_after", report.issueCount());
    }

    /** One partition, from its checkpoint if one was left for this model and scope. */
    private Future<JsonObject> partition(ReindexPartition job) {
        if (job.model() != null && !job.model().equals(model.name())) {
            // A node configured for another model (a rolling restart) would re-embed the files back.
            return Future.failedFuture(new Failure.Conflict("node " + config.nodeId() + " embeds with " + model.name()
                    + ", not " + job.model() + ": restart it with the new embedding configuration"));
        }
        return stores.checkpoints().get(job.tenantId(), job.partition()).compose(cp -> {
            boolean valid = cp != null && model.name().equals(cp.model()) && cp.all() == job.all();
            if (valid && cp.done()) {
                return Future.succeededFuture(new ReindexDone(0, 0, 0, 0).toJson());
            }
            String after = valid ? cp.lastFileId() : null;
            if (valid) {
                LOG.info("Re-index of {} partition {} resumes after file {}", job.tenantId(), job.partition(), after);
            }
            BatchSizer sizer = new BatchSizer(config.embedding().reindexTargetBatchMs(), 1, MAX_BATCH, FIRST_BATCH);
            Promise<ReindexDone> done = Promise.promise();
            batches(job, after, sizer, new ReindexDone(0, 0, 0, sizer.size()), done);
            return done.future().map(ReindexDone::toJson);
        });
    }

    private void batches(
            ReindexPartition job, String after, BatchSizer sizer, ReindexDone sofar, Promise<ReindexDone> done) {
        long t = System.nanoTime();
        int size = sizer.size();
        stores.syncOperations()
                .get(job.opId())
                .compose(op -> op == null || op.status() != SyncOperation.Status.RUNNING
                        ? Future.failedFuture(new Failure.Conflict("re-index " + job.opId() + " is no longer running"))
                        : stores.metadata().list(FileQuery.partition(job.tenantId(), job.partition()), after, size))
                .compose(page -> batch(job, page).compose(b -> {
                    String last = page.items().isEmpty()
                            ? after
                            : page.items().get(page.items().size() - 1).id();
                    boolean end = page.next() == null;
                    return stores.checkpoints()
                            .save(new io.trisync.store.ReindexCheckpoints.Checkpoint(
                                    job.tenantId(), job.partition(), model.name(), job.all(), last, end))
                            .map(v -> {
                                vertx.eventBus().send(RepairAddresses.reindexProgress(job.opId()), b.toJson());
                                int next = sizer.took(page.items().size(), (System.nanoTime() - t) / 1_000_000);
                                ReindexDone total = new ReindexDone(
                                        sofar.files() + b.files(),
                                        sofar.chunks() + b.chunks(),
                                        sofar.skipped() + b.skipped(),
                                        next);
                                if (end) {
                                    done.complete(total);
                                } else {
                                    batches(job, last, sizer, total, done);
                                }
                                return null;
                            });
                }))
                .onFailure(done::fail);
    }

    /**
     * Re-embeds the due files of one page together: their contents read from S3 a few at a time and
     * chunked, every chunk embedded in one call (the provider sends {@code EMBEDDING_BATCH_SIZE} to a
     * request), the points upserted 256 to a request, the old model's extra chunks deleted by id, and
     * the records patched in one bulk write, each only if it still holds the content that was embedded.
     */
    private Future<ReindexDone> batch(ReindexPartition job, Page<FileRecord> page) {
        List<FileRecord> due =
                page.items().stream().filter(r -> due(r, job.all())).toList();
        long skipped = page.items().size() - due.size();
        if (due.isEmpty()) {
            return Future.succeededFuture(new ReindexDone(0, 0, skipped, 0));
        }
        ContentIndexer.Prepared[] prepared = new ContentIndexer.Prepared[due.size()];
        return Lanes.forEach(Lanes.range(due.size()), PARALLEL_READS, i -> {
                    FileRecord r = due.get(i);
                    return stores.blobs()
                            .read(StoreKeys.blobKey(r.tenantId(), r.partition(), r.id()))
                            .compose(content -> embeddingPool.executeBlocking(() -> indexer.prepare(
                                    content.bytes().getBytes(),
                                    new ContentIndexer.Target(
                                            r.tenantId(),
                                            r.id(),
                                            r.partition(),
                                            r.sha256(),
                                            r.contentType(),
                                            r.name()))))
                            .map(p -> {
                                prepared[i] = p;
                                return null;
                            });
                })
                .compose(v -> embeddingPool.executeBlocking(() -> indexer.indexAll(List.of(prepared))))
                .compose(indexed -> write(due, indexed, skipped));
    }

    /**
     * Writes a batch's points, then checks the records: a file deleted or changed meanwhile loses the
     * points just written; the others are patched in one bulk write by id (an update filtered by id
     * alone, which the embedded MongoDB answers from its index; a filter with more fields would scan
     * the collection once per file there). A delete landing after the check removes the file's points
     * itself (the new ones included); it leaves only the embedding fields on its record.
     */
    private Future<ReindexDone> write(List<FileRecord> due, List<ContentIndexer.Indexed> indexed, long skipped) {
        List<ChunkPoint> points = new ArrayList<>();
        List<java.util.UUID> extra = new ArrayList<>();
        io.trisync.store.VectorSpaces.Space migrating = stores.vectors().retiring();
        java.util.Map<String, Integer> chunksOf = new java.util.HashMap<>();
        for (int i = 0; i < due.size(); i++) {
            FileRecord r = due.get(i);
            ContentIndexer.Indexed one = indexed.get(i);
            if (one.failed()) {
                continue;
            }
            chunksOf.put(r.id(), one.points().size());
            points.addAll(one.points());
            // Point ids derive from (file, chunk): new points replace old ones in place; only chunks
            // past the new count (the old text made more) are deleted, by id. While the dimension
            // changes the new points go to a collection of their own, and the old ones stay serving.
            for (int c = one.points().size();
                    migrating == null && c < r.embedding().chunks();
                    c++) {
                extra.add(StoreKeys.chunkPointId(r.id(), c));
            }
        }
        java.util.Map<String, String> embedded = new java.util.HashMap<>();
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
                    java.util.Set<String> kept = new java.util.HashSet<>();
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
                    for (FileRecord r : due) {
                        if (chunksOf.containsKey(r.id()) && !kept.contains(r.id())) {
                            LOG.info("File {} changed while it was re-embedded; its new points are removed", r.id());
                            gone.add(stores.vectors().deleteFile(r.tenantId(), r.id()));
                        }
                    }
                    return Future.all(gone)
                            .compose(v -> stores.metadata().patchAll(patches))
                            .map(matched -> new ReindexDone(
                                    patches.size(), points.size(), skipped + due.size() - patches.size(), 0));
                });
    }
}
