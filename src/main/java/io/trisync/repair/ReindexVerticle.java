package io.trisync.repair;

import io.trisync.bus.ClusterBus;
import io.trisync.bus.RequestVerticle;
import io.trisync.concurrent.Lanes;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.EmbeddingPool;
import io.trisync.events.EventPublisher;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TrackedOperation;
import io.trisync.repair.RepairMessages.ReindexDone;
import io.trisync.repair.RepairMessages.ReindexPartition;
import io.trisync.repair.RepairMessages.ReindexRequest;
import io.trisync.scan.IssueType;
import io.trisync.scan.ScanAddresses;
import io.trisync.scan.ScanMessages.PartitionRequest;
import io.trisync.scan.ScanReport;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.ReindexCheckpoints.Checkpoint;
import io.trisync.store.Stores;
import io.trisync.store.VectorSpaces;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code reindex} operation kind: re-embeds every file of a tenant that another model made (or
 * every file, {@code all}) with the model in use, partitions in parallel across the cluster's repair
 * nodes ({@code SYNC_SCAN_PARALLELISM} at once). Each partition goes in batches of files in id order
 * whose size adapts to {@code REINDEX_TARGET_BATCH_MS} ({@link BatchSizer}), with a checkpoint in
 * MongoDB after every batch, so a re-index that was cancelled, timed out or killed resumes where it
 * stopped when started again (a completed one removes its checkpoints). Progress carries the files
 * dealt with, re-embedded and skipped apart, chunks a second and the estimated time left; progress
 * and result count the runs a resumed re-index went on from too ({@link ReindexTally}). At the end a
 * scan of the tenant's partitions verifies it; the result says what is left ({@code stale_after},
 * {@code issues_after}). A dry run counts the files and chunks and estimates the time from a measured
 * embedding of sample chunks.
 */
public final class ReindexVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(ReindexVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final EmbeddingModel model;
    private OperationTracker tracker;
    private EventPublisher events;
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
        embeddingPool = EmbeddingPool.of(vertx);
        consume(RepairAddresses.REINDEX_START, body -> start(ReindexRequest.fromJson(body)));
        ReindexBatches batches =
                new ReindexBatches(vertx, config, stores, model, new ContentIndexer(model), embeddingPool);
        consume(RepairAddresses.REINDEX_PARTITION, body -> batches.partition(ReindexPartition.fromJson(body)));
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
        return stores.checkpoints()
                .list(tenant)
                .compose(checkpoints -> Future.all(checkpoints.stream()
                                .filter(c -> c.resumes(model.name(), request.all()))
                                .map(c -> ReindexBatches.settled(stores, c, model.name()))
                                .toList())
                        .map(all -> all.<Checkpoint>list()))
                .compose(settled -> {
                    // The checkpoints a run of this model and scope goes on from, by partition.
                    Map<Integer, Checkpoint> resumed = new HashMap<>();
                    settled.forEach(c -> resumed.put(c.partition(), c));
                    return scope(tenant, request.all(), resumed, null, 0, 0).compose(scope -> {
                        if (request.dryRun()) {
                            return estimate(scope).map(seconds -> new RepairMessages.ReindexEstimate(
                                            tenant, model.name(), scope.files(), scope.chunks(), seconds)
                                    .toJson());
                        }
                        ReindexTally tally = ReindexTally.of(resumed.values(), scope.files());
                        return tracker.start(tenant, "reindex", tally.total(), request.actor())
                                .map(op -> {
                                    run(op, tenant, request.all(), scope, tally);
                                    return op.record().toPublicJson();
                                });
                    });
                });
    }

    /**
     * Counts the files to re-embed by walking the tenant's active records in id order: those due and
     * ahead of their partition's checkpoint ({@code resumed}), as the run deals with them.
     */
    private Future<Scope> scope(
            String tenant, boolean all, Map<Integer, Checkpoint> resumed, String after, long files, long chunks) {
        return stores.metadata()
                .list(new FileQuery(tenant, null, FileRecord.Status.ACTIVE), after, 1000)
                .compose(page -> {
                    long f = files;
                    long c = chunks;
                    for (FileRecord r : page.items()) {
                        if (ReindexBatches.due(r, all, model.name())
                                && ReindexTally.ahead(r, resumed.get(r.partition()))) {
                            f++;
                            // As the run counts them: a file without text to extract has none.
                            c += r.embedding().chunks();
                        }
                    }
                    return page.next() == null
                            ? Future.succeededFuture(new Scope(f, c))
                            : scope(tenant, all, resumed, page.next(), f, c);
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

    /**
     * Runs the re-index: {@code scope}, the files this run deals with; {@code tally}, what its progress
     * and result count (the earlier runs' work included when it resumes).
     */
    private void run(TrackedOperation op, String tenant, boolean all, Scope scope, ReindexTally tally) {
        long started = System.nanoTime();
        if (!tally.resumedFrom().isEmpty()) {
            LOG.info(
                    "Re-index {} of tenant {} goes on from {}: {} files re-embedded and {} left out before it,"
                            + " {} to do",
                    op.record().id(),
                    tenant,
                    tally.resumedFrom(),
                    tally.before().files(),
                    tally.before().skipped(),
                    scope.files());
        }
        // Told now: the first batch's files can take minutes to embed before any batch reports.
        op.progressOfFiles(
                "updating_embeddings",
                tally.before().files(),
                tally.before().skipped(),
                tally.total(),
                null,
                null,
                null,
                null);
        MessageConsumer<JsonObject> progress = vertx.eventBus()
                .consumer(RepairAddresses.reindexProgress(op.record().id()), m -> {
                    if (!tally.add(ReindexDone.fromJson(m.body()))) {
                        return; // after the last partition answered: counted, and the stage is past
                    }
                    long made = tally.thisRun().chunks();
                    double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
                    double rate = made / seconds;
                    long left = Math.max(0, scope.chunks() - made);
                    ReindexDone sofar = tally.all();
                    op.progressOfFiles(
                            "updating_embeddings",
                            sofar.files(),
                            sofar.skipped(),
                            tally.total(),
                            Math.round(rate * 10) / 10.0,
                            rate > 0 ? (long) Math.ceil(left / rate) : null,
                            null,
                            null);
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
                .compose(v -> stores.checkpoints().list(tenant))
                .compose(checkpoints -> {
                    long embedded = System.nanoTime();
                    // Counted from the checkpoints, not from the partitions' answers: a partition whose
                    // node left part way went on elsewhere from its checkpoint, and the answer of the node
                    // that finished it holds only its own batches. A batch's report may come after them.
                    tally.settleFromCheckpoints(
                            checkpoints.stream()
                                    .sorted(Comparator.comparingInt(Checkpoint::partition))
                                    .map(ReindexDone::of)
                                    .reduce(ReindexDone.NONE, (a, b) -> a.plus(b, 0)),
                            parts.stream()
                                    .mapToInt(ReindexDone::batchSize)
                                    .max()
                                    .orElse(0));
                    return verify(op, tenant, tally).compose(report -> stores.checkpoints()
                            .clear(tenant)
                            .compose(w -> switchIfDone(report))
                            .compose(switched -> {
                                ReindexDone whole = tally.all();
                                // Every file dealt with, each counted once: re-embedded or left out.
                                op.progressOfFiles(
                                        "finalizing",
                                        whole.files(),
                                        whole.skipped(),
                                        whole.dealtWith(),
                                        null,
                                        null,
                                        null,
                                        null);
                                return op.complete(result(tally, report, started, embedded, switched)
                                        .toJson());
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
     * While the embedding model changes: once no active file of any tenant has vectors of another
     * model than this node's and this tenant's verification found no stale or missing vectors, the new collection
     * takes over search ({@code switched_to}); else what it waits for ({@code switch_waits_for}, files).
     */
    private Future<RepairMessages.VectorSwitch> switchIfDone(ScanReport report) {
        VectorSpaces.Space retiring = stores.vectors().retiring();
        VectorSpaces spaces = stores.vectors().spaces();
        if (retiring == null) {
            return Future.succeededFuture(null);
        }
        if (!model.name().equals(spaces.target().model())
                || model.dimension() != spaces.target().dims()) {
            // Only a node embedding with the new collection's model may judge it complete.
            return Future.succeededFuture(RepairMessages.VectorSwitch.waiting(
                    -1,
                    retiring.collection(),
                    "this node embeds with " + model.name() + ", not the new collection's "
                            + spaces.target().model()));
        }
        return stores.metadata().countEmbeddedByOther(model.name()).compose(left -> {
            long vectorIssues =
                    report.issuesOf(IssueType.STALE_VECTORS, IssueType.MISSING_VECTORS, IssueType.MISSING_CHUNKS);
            if (left > 0 || vectorIssues > 0) {
                return Future.succeededFuture(RepairMessages.VectorSwitch.waiting(left, retiring.collection(), null));
            }
            return stores.vectors().switchToTarget().map(after -> {
                vertx.eventBus()
                        .publish(
                                RepairAddresses.VECTORS_SWITCHED,
                                after.serving().collection());
                return RepairMessages.VectorSwitch.switched(after.serving().collection(), retiring.collection());
            });
        });
    }

    /** A scan of every partition of the tenant under the re-index's operation; its progress counts partitions. */
    private Future<ScanReport> verify(TrackedOperation op, String tenant, ReindexTally tally) {
        int partitions = config.sync().partitions();
        ReindexDone whole = tally.all();
        AtomicInteger verified = new AtomicInteger();
        op.progressOfFiles("verifying", whole.files(), whole.skipped(), tally.total(), null, null, 0, partitions);
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
                                    op.progressOfFiles(
                                            "verifying",
                                            whole.files(),
                                            whole.skipped(),
                                            tally.total(),
                                            null,
                                            null,
                                            verified.incrementAndGet(),
                                            partitions);
                                    return null;
                                }))
                .map(report);
    }

    /**
     * {@code started}, {@code embedded}: when the re-index began and when its last partition was done
     * (nanos); the rates are this run's.
     */
    private RepairMessages.ReindexResult result(
            ReindexTally tally, ScanReport report, long started, long embedded, RepairMessages.VectorSwitch switched) {
        ReindexDone run = tally.thisRun();
        double seconds = Math.max(0.001, (embedded - started) / 1e9);
        double verifying = (System.nanoTime() - embedded) / 1e9;
        return new RepairMessages.ReindexResult(
                model.name(),
                tally.all(),
                run,
                tally.resumedFrom(),
                Math.round(run.files() / seconds * 10) / 10.0,
                Math.round(run.chunks() / seconds * 10) / 10.0,
                run.batchSize(),
                Math.round(seconds * 10) / 10.0,
                Math.round(verifying * 10) / 10.0,
                report.issuesOf(IssueType.STALE_VECTORS),
                report.issueCount(),
                switched);
    }
}
