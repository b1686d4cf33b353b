package io.trisync.repair;

import io.trisync.bus.RequestVerticle;
import io.trisync.concurrent.Lanes;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.EmbeddingPool;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.OpsMessages.StartRequest;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.ops.TrackedOperation;
import io.trisync.repair.RepairMessages.FixRequest;
import io.trisync.repair.RepairPlanner.OpenIssue;
import io.trisync.repair.RepairPlanner.Selection;
import io.trisync.scan.IssueType;
import io.trisync.scan.ScanAddresses;
import io.trisync.search.SearchAddresses;
import io.trisync.store.Actor;
import io.trisync.store.Ids;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs as tracked sync operations: plans from the open issues a scan left (partition by
 * partition, so memory is bounded by one partition's issues), executes them in batches of {@code
 * SYNC_BATCH_SIZE} files (a few files at a time), each file re-verified before it is touched, and
 * keeps the result on the operation. A fix interrupted by a crash is resumed by running it again:
 * finished files had their issues closed, the rest are planned afresh. Also owns the quarantine.
 */
public final class RepairVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(RepairVerticle.class);
    /** Files repaired at once within a batch. */
    private static final int PARALLEL_FILES = 8;
    /** Failures listed in a result (all are in the audit trail). */
    private static final int LISTED_FAILURES = 100;
    /** Actions listed in a dry run's reply (the counts cover all). */
    static final int LISTED_ACTIONS = 1000;

    private final TrisyncConfig config;
    private final Stores stores;
    private final EmbeddingModel model;
    private final RepairPlanner planner;
    private OperationTracker tracker;
    private RepairExecutor executor;
    private Quarantine quarantine;
    private WorkerExecutor embeddingPool;

    public RepairVerticle(TrisyncConfig config, Stores stores, EmbeddingModel model) {
        this.config = config;
        this.stores = stores;
        this.model = model;
        this.planner = new RepairPlanner(config.repair().hasBackup());
    }

    @Override
    public Future<?> start() {
        EventPublisher events = EventPublisher.of(vertx, config, stores);
        tracker = OperationTracker.of(vertx, config, stores, events);
        embeddingPool = EmbeddingPool.of(vertx);
        quarantine = new Quarantine(stores);
        executor = new RepairExecutor(
                stores, events, new ContentIndexer(model), embeddingPool, config.repair(), quarantine);
        consume(RepairAddresses.START, body -> begin(
                        Ids.require("tenant_id", StartRequest.fromJson(body).tenantId()),
                        Selection.ALL,
                        StartRequest.fromJson(body).actor())
                .map(run -> run.op().record().toPublicJson()));
        consume(RepairAddresses.FIX, this::fix);
        consume(RepairAddresses.AUTO, body -> autoRepair(body).map(run -> new JsonObject()
                .put("operation_id", run.op().record().id())));
        if (config.repair().autoRepair()) {
            listen(ScanAddresses.PERIODIC_SCAN_COMPLETED, body -> autoRepair(body)
                    .onFailure(e -> LOG.warn(
                            "Auto-repair of {} not started: {}",
                            TenantRef.fromJson(body).tenantId(),
                            e.getMessage())));
            // Read repair's second half: what a search left out and recorded is fixed like a scan's findings.
            listen(SearchAddresses.ISSUES_FOUND, body -> autoRepair(body)
                    .onFailure(e -> LOG.info(
                            "Auto-repair of {} after a search not started: {}",
                            TenantRef.fromJson(body).tenantId(),
                            e.getMessage())));
        }
        RepairRecords records = new RepairRecords(config, stores, quarantine);
        consume(RepairAddresses.RESULT, records::result);
        consume(RepairAddresses.QUARANTINE_LIST, records::listQuarantine);
        consume(RepairAddresses.QUARANTINE_RESTORE, records::restore);
        consume(RepairAddresses.QUARANTINE_PURGE, records::purge);
        return consumersReady();
    }

    @Override
    public Future<?> stop() {
        return super.stop().eventually(() -> embeddingPool.close());
    }

    /** Applies the repairs of {@code body}'s tenant that need no person. */
    private Future<Run> autoRepair(JsonObject body) {
        return begin(
                Ids.require("tenant_id", TenantRef.fromJson(body).tenantId()),
                new Selection(null, null, true),
                Actor.SYSTEM);
    }

    private Future<JsonObject> fix(JsonObject body) {
        FixRequest request = FixRequest.fromJson(body);
        String tenant = optionalTenant(request.tenantId());
        Selection selection = selection(request);
        boolean dryRun = request.dryRun();
        Future<List<String>> tenants =
                tenant == null ? stores.issues().tenants() : Future.succeededFuture(List.of(tenant));
        if (dryRun) {
            return tenants.compose(list -> dryRun(list, selection));
        }
        return tenants.compose(list -> {
            List<String> started = new ArrayList<>();
            return Lanes.inOrder(list, t -> begin(t, selection, request.actor())
                            .map(run -> started.add(run.op().record().id())))
                    .map(v -> new RepairMessages.RepairsStarted(started, tenant == null ? null : started.get(0))
                            .toJson());
        });
    }

    /** The plan for the tenants, partition by partition; counts over all of it, at most {@link #LISTED_ACTIONS} listed. */
    private Future<JsonObject> dryRun(List<String> tenants, Selection selection) {
        List<PlannedAction> all = new ArrayList<>();
        JsonArray listed = new JsonArray();
        Future<Void> chain = Lanes.inOrder(
                tenants,
                tenant -> Lanes.inOrder(
                        Lanes.range(config.sync().partitions()),
                        partition -> planPartition(tenant, partition, selection).map(plan -> {
                            for (PlannedAction a : plan) {
                                all.add(a);
                                if (listed.size() < LISTED_ACTIONS) {
                                    listed.add(a.toJson());
                                }
                            }
                            return null;
                        })));
        return chain.map(v ->
                new RepairMessages.RepairPlan(RepairPlanner.counts(all), listed, all.size() > listed.size()).toJson());
    }

    private Future<List<PlannedAction>> planPartition(String tenant, int partition, Selection selection) {
        return stores.issues()
                .open(tenant, partition)
                .map(docs -> planner.plan(docs.stream().map(OpenIssue::of).toList(), selection));
    }

    /** A fix that has started: its tracked operation, and the future of its end. */
    private record Run(TrackedOperation op, Future<Void> done) {}

    private Future<Run> begin(String tenant, Selection selection, Actor actor) {
        return countFiles(tenant, selection).compose(files -> tracker.start(tenant, "repair", files, actor)
                .map(op -> new Run(
                        op, settleInterrupted(tenant).compose(settled -> execute(op, tenant, selection, files)))));
    }

    /** Finishes the quarantine moves an earlier, interrupted repair of the tenant left half done. */
    private Future<Integer> settleInterrupted(String tenant) {
        return quarantine
                .settleInterrupted(tenant)
                .onSuccess(n -> {
                    if (n > 0) {
                        LOG.info("Finished {} quarantine moves an interrupted repair of tenant {} left", n, tenant);
                    }
                })
                .recover(e -> {
                    LOG.warn(
                            "Could not check the interrupted quarantine moves of tenant {}: {}",
                            tenant,
                            e.getMessage());
                    return Future.succeededFuture(0);
                });
    }

    /** Files the fix will touch: a first pass over the open issues, so progress can say "5 of 20 files". */
    private Future<Long> countFiles(String tenant, Selection selection) {
        long[] files = {0};
        return Lanes.inOrder(Lanes.range(config.sync().partitions()), partition -> planPartition(
                                tenant, partition, selection)
                        .map(plan -> files[0] += plan.stream()
                                .map(PlannedAction::fileId)
                                .distinct()
                                .count()))
                .map(v -> files[0]);
    }

    /** Running totals of a fix. */
    private static final class Tally {
        long files;
        long attempted;
        long successful;
        long alreadyResolved;
        long leftToPerson;
        long failed;
        final Set<String> resolvedIssues = new HashSet<>();
        final List<RepairMessages.RepairFailure> failures = new ArrayList<>();

        void add(String fileId, Outcomes.FileOutcome outcome) {
            files++;
            for (Outcomes.Outcome o : outcome.outcomes()) {
                attempted++;
                switch (o.status()) {
                    case DONE -> successful++;
                    case ALREADY_RESOLVED -> alreadyResolved++;
                    case LEFT_TO_PERSON -> leftToPerson++;
                    case FAILED -> failed++;
                }
                if ((o.status() == Outcomes.Status.FAILED || o.status() == Outcomes.Status.LEFT_TO_PERSON)
                        && failures.size() < LISTED_FAILURES) {
                    failures.add(new RepairMessages.RepairFailure(
                            fileId, o.action().action().name(), o.status().wire(), o.reason()));
                }
            }
            outcome.resolved().forEach(t -> resolvedIssues.add(fileId + "/" + t));
        }

        JsonObject toJson() {
            return new RepairMessages.RepairResult(
                            files,
                            attempted,
                            successful,
                            alreadyResolved,
                            leftToPerson,
                            failed,
                            resolvedIssues.size(),
                            List.copyOf(failures))
                    .toJson();
        }
    }

    private Future<Void> execute(TrackedOperation op, String tenant, Selection selection, long totalFiles) {
        Tally tally = new Tally();
        Future<Void> chain = Lanes.inOrder(
                Lanes.range(config.sync().partitions()),
                partition -> op.stopped()
                        ? Future.failedFuture("repair " + op.record().id() + " was ended before partition " + partition)
                        : planPartition(tenant, partition, selection)
                                .compose(plan -> executePartition(op, plan, tally, totalFiles)));
        return chain.compose(v -> {
                    op.progress("finalizing", tally.files, totalFiles, tally.files);
                    return op.complete(tally.toJson());
                })
                .onSuccess(v -> LOG.info(
                        "Repair {} of tenant {}: {} actions, {} done, {} already resolved, {} left to a person,"
                                + " {} failed; {} issues resolved",
                        op.record().id(),
                        tenant,
                        tally.attempted,
                        tally.successful,
                        tally.alreadyResolved,
                        tally.leftToPerson,
                        tally.failed,
                        tally.resolvedIssues.size()))
                .recover(error -> op.stopped()
                        ? Future.failedFuture(error)
                        : op.fail("repair stopped: " + error.getMessage() + "; run the fix again to resume")
                                .transform(ignored -> Future.failedFuture(error)));
    }

    /** The partition's files in batches of SYNC_BATCH_SIZE, {@link #PARALLEL_FILES} files at a time. */
    private Future<Void> executePartition(TrackedOperation op, List<PlannedAction> plan, Tally tally, long totalFiles) {
        Map<String, List<PlannedAction>> byFile = new LinkedHashMap<>();
        plan.forEach(
                a -> byFile.computeIfAbsent(a.fileId(), k -> new ArrayList<>()).add(a));
        List<List<PlannedAction>> files = new ArrayList<>(byFile.values());
        int batch = Math.max(1, config.sync().batchSize());
        List<List<List<PlannedAction>>> slices = new ArrayList<>();
        for (int from = 0; from < files.size(); from += batch) {
            slices.add(files.subList(from, Math.min(files.size(), from + batch)));
        }
        return Lanes.inOrder(
                slices,
                slice -> op.stopped()
                        ? Future.failedFuture("repair " + op.record().id() + " was ended")
                        : Lanes.forEach(slice, PARALLEL_FILES, actions -> (op.stopped()
                                        // Cancelled or failed elsewhere: no file is begun after that.
                                        ? Future.<Outcomes.FileOutcome>failedFuture(
                                                "repair " + op.record().id() + " was ended")
                                        : executor.runFile(actions, op.record().id(), op::stopped))
                                .map(outcome -> {
                                    tally.add(actions.get(0).fileId(), outcome);
                                    op.progress("processing_files", tally.files, totalFiles, tally.files);
                                    return null;
                                })));
    }

    static String optionalTenant(String tenant) {
        return tenant == null ? null : Ids.require("user_id", tenant);
    }

    private static Selection selection(FixRequest request) {
        Set<IssueType> types = null;
        JsonArray rawTypes = request.issueTypes();
        if (rawTypes != null) {
            types = EnumSet.noneOf(IssueType.class);
            for (Object t : rawTypes) {
                try {
                    types.add(IssueType.valueOf((String) t));
                } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
                    throw new Failure.BadRequest("issue_types: unknown issue type " + t);
                }
            }
        }
        Set<String> files = null;
        JsonArray rawFiles = request.fileIds();
        if (rawFiles != null) {
            files = new HashSet<>();
            for (Object f : rawFiles) {
                if (!(f instanceof String s) || !Ids.valid(s)) {
                    throw new Failure.BadRequest("file_ids: malformed file id " + f);
                }
                files.add(s);
            }
        }
        return new Selection(types, files, false);
    }
}
