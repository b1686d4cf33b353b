package io.trisync.scan;

import io.trisync.bus.ClusterBus;
import io.trisync.bus.RequestVerticle;
import io.trisync.concurrent.Lanes;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.OpsMessages.StartRequest;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.ops.TrackedOperation;
import io.trisync.scan.ScanMessages.AnalyzeRequest;
import io.trisync.scan.ScanMessages.ConsistencyCheck;
import io.trisync.scan.ScanMessages.PartitionRequest;
import io.trisync.store.Actor;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.store.TrendStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consistency analysis of a tenant, or of every tenant, as a tracked sync operation: partition by
 * partition, read the three stores ({@link PartitionReader}), reconcile ({@link Reconciler}), add to
 * the report, note progress; stop if the operation is ended elsewhere. A store failing part way
 * fails the operation with the reason; the unread partitions are never reported as missing.
 */
public final class ScanVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(ScanVerticle.class);
    private static final Set<String> MODES = Set.of("full", "deep", "quick");
    /** A quick check's default sample: ±5% at 95% confidence in the worst case (rate 50%). */
    static final int DEFAULT_SAMPLE = 384;

    /** Tenants with points alone (no records, issues or objects) one all-tenant scan finds at most. */
    static final int MAX_POINT_ONLY_TENANTS = 1000;

    private final TrisyncConfig config;
    private final Stores stores;
    private OperationTracker tracker;
    private long periodic = -1;

    public ScanVerticle(TrisyncConfig config, Stores stores) {
        this.config = config;
        this.stores = stores;
    }

    @Override
    public Future<?> start() {
        EventPublisher events = EventPublisher.of(vertx, config, stores);
        tracker = OperationTracker.of(vertx, config, stores, events);
        consume(ScanAddresses.START, body -> begin(
                        Ids.require("tenant_id", StartRequest.fromJson(body).tenantId()),
                        "full",
                        StartRequest.fromJson(body).actor())
                .map(run -> run.op().record().toPublicJson()));
        consume(ScanAddresses.ANALYZE, this::analyze);
        TenantStatus status = new TenantStatus(stores);
        consume(ScanAddresses.TENANT_STATUS, status::of);
        FileStory story = new FileStory(stores);
        consume(ScanAddresses.FILE_STORY, body -> {
            ScanMessages.StoryQuery query = ScanMessages.StoryQuery.fromJson(body);
            return story.of(query.tenantId(), Ids.require("file_id", query.fileId()));
        });
        consume(ScanAddresses.OVERVIEW, status::overview);
        consume(ScanAddresses.TRENDS, body -> {
            ScanMessages.TrendsQuery query = ScanMessages.TrendsQuery.fromJson(body);
            String scope = query.tenantId() == null ? TrendStore.ALL : query.tenantId();
            return stores.trends().recent(scope, query.limit()).map(samples -> new JsonObject()
                    .put("scope", scope)
                    .put(
                            "samples",
                            new JsonArray(samples.stream()
                                    .map(TrendStore.Sample::toDocument)
                                    .toList())));
        });
        consume(
                ScanAddresses.CONSISTENCY_CHECK,
                body -> consistencyCheck(
                        ConsistencyCheck.fromJson(body).onlyDue(),
                        ConsistencyCheck.fromJson(body).actor()));
        long interval = config.sync().checkIntervalMinutes() * 60_000L;
        periodic = vertx.setPeriodic(interval, interval, id -> spreadChecks(interval));
        return consumersReady();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(periodic);
        return super.stop();
    }

    private Future<JsonObject> analyze(JsonObject body) {
        AnalyzeRequest request = AnalyzeRequest.fromJson(body);
        String mode = request.mode();
        if (!MODES.contains(mode)) {
            throw new Failure.BadRequest("mode must be \"full\", \"deep\" or \"quick\"");
        }
        Integer requestedSample = request.sampleSize();
        int sampleSize = requestedSample == null ? DEFAULT_SAMPLE : requestedSample;
        if (sampleSize < 1 || sampleSize > 1_000_000) {
            throw new Failure.BadRequest("sample_size must be between 1 and 1000000");
        }
        String tenant = request.tenantId();
        if (tenant != null) {
            Ids.require("user_id", tenant);
        }
        Long seed = request.seed();
        boolean wait = request.waitForReport();
        Future<List<String>> tenants = tenant == null ? allTenants() : Future.succeededFuture(List.of(tenant));
        return tenants.compose(list -> {
            ScanReport report = new ScanReport(tenant == null ? "all" : "tenant:" + tenant, mode);
            List<String> opIds = new ArrayList<>();
            Future<Void> chain = Lanes.inOrder(list, t -> begin(t, mode, sampleSize, seed, report, request.actor())
                    .compose(run -> {
                        opIds.add(run.op().record().id());
                        return wait ? run.done() : Future.succeededFuture();
                    }));
            return chain.map(v -> wait ? report.toJson() : new JsonObject().put("operation_ids", opIds));
        });
    }

    /**
     * Starts a scan of every tenant; with {@code onlyDue}, of those whose last completed scan is older
     * than the check interval. A tenant with an operation running is skipped; one whose scan could
     * not start for another reason (a store down) is listed under {@code failed} with the reason, and
     * when no scan started at all the request fails with the first such reason.
     */
    private Future<JsonObject> consistencyCheck(boolean onlyDue, Actor actor) {
        return allTenants().compose(tenants -> {
            JsonArray started = new JsonArray();
            JsonArray skipped = new JsonArray();
            JsonArray failed = new JsonArray();
            List<Throwable> causes = new ArrayList<>();
            Future<Void> chain = Lanes.inOrder(tenants, tenant -> due(tenant, onlyDue)
                    .compose(due -> !due
                            ? Future.succeededFuture(skipped.add(tenant))
                            : begin(tenant, "full", actor)
                                    .map(run -> started.add(run.op().record().id()))
                                    .recover(error -> {
                                        if (busy(error)) {
                                            skipped.add(tenant);
                                        } else {
                                            LOG.warn(
                                                    "Scan of tenant {} could not start: {}",
                                                    tenant,
                                                    error.getMessage());
                                            failed.add(new JsonObject()
                                                    .put("user_id", tenant)
                                                    .put("error", String.valueOf(error.getMessage())));
                                            causes.add(error);
                                        }
                                        return Future.succeededFuture();
                                    })));
            return chain.compose(v -> started.isEmpty() && !causes.isEmpty()
                    ? Future.failedFuture(causes.get(0))
                    : Future.succeededFuture(new JsonObject()
                            .put("operation_ids", started)
                            .put("skipped", skipped)
                            .put("failed", failed)));
        });
    }

    /**
     * The tenants an all-tenant scan takes (analyze without a tenant, the consistency check, the
     * periodic check): those with records, with open issues, with objects in S3 (the first segments
     * of its keys, one listing request per 1,000 tenants) and with points in Qdrant (one scroll per
     * tenant not known from the others, at most {@link #MAX_POINT_ONLY_TENANTS}). A tenant whose
     * records were removed (orphan blobs or points alone) was never scanned by them: tenants were
     * taken from the records only.
     */
    private Future<List<String>> allTenants() {
        Future<List<String>> records = stores.metadata().tenants();
        Future<List<String>> issues = stores.issues().tenants();
        // A store that cannot list now leaves its tenants to a later check; the scans of the others
        // start (and fail with the store's reason if it is down), as before.
        Future<List<String>> blobs = stores.blobs().topLevelPrefixes().recover(e -> unlisted("s3", e));
        return Future.all(records, issues, blobs).compose(v -> {
            Set<String> known = new TreeSet<>();
            known.addAll(records.result());
            known.addAll(issues.result());
            String backup = config.repair().backupPrefix();
            String backupTop = backup.isBlank() ? null : backup.split("/", 2)[0];
            blobs.result().stream()
                    .filter(t -> Ids.valid(t) && !t.equals(backupTop))
                    .forEach(known::add);
            return stores.vectors()
                    .tenantsBesides(known, MAX_POINT_ONLY_TENANTS)
                    .recover(e -> unlisted("qdrant", e))
                    .map(more -> {
                        if (more.size() >= MAX_POINT_ONLY_TENANTS) {
                            LOG.warn(
                                    "{} tenants or more have points only; the rest are scanned by a later check",
                                    MAX_POINT_ONLY_TENANTS);
                        }
                        more.stream().filter(Ids::valid).forEach(known::add);
                        return List.copyOf(known);
                    });
        });
    }

    private static Future<List<String>> unlisted(String store, Throwable e) {
        LOG.warn("Tenants with {} content alone not listed: {}", store, e.getMessage());
        return Future.succeededFuture(List.of());
    }

    /** True for the tracker's answer that the tenant already has an operation running (409). */
    private static boolean busy(Throwable error) {
        // Refused across the bus (a ReplyException with the code) or by this node's tracker (the failure itself).
        return Failure.status(error) == Failure.CONFLICT;
    }

    /**
     * Whether a tenant's last scan (a full or deep one; a quick check records nothing) is older than the
     * check interval (always, unless {@code onlyDue}).
     */
    private Future<Boolean> due(String tenant, boolean onlyDue) {
        if (!onlyDue) {
            return Future.succeededFuture(true);
        }
        Instant cutoff = Instant.now().minusSeconds(config.sync().checkIntervalMinutes() * 60L);
        // A quick check records nothing: only a scan that recorded verdicts puts off the next one.
        return stores.syncOperations().lastScan(tenant).map(last -> last == null || !last.isAfter(cutoff));
    }

    /** The periodic check: tenants due for a scan, started one by one spread over the interval. */
    private void spreadChecks(long intervalMs) {
        allTenants()
                .onFailure(e -> LOG.warn("Periodic checks not started: {}", e.getMessage()))
                .onSuccess(tenants -> {
                    long gap = tenants.isEmpty() ? 0 : intervalMs / (2L * tenants.size());
                    for (int i = 0; i < tenants.size(); i++) {
                        String tenant = tenants.get(i);
                        vertx.setTimer(1 + i * gap, id -> due(tenant, true).onSuccess(due -> {
                            if (due) {
                                begin(tenant, "full", Actor.SYSTEM)
                                        .onSuccess(run -> run.done().onSuccess(v -> completed(tenant)))
                                        .onFailure(e -> {
                                            if (busy(e)) {
                                                LOG.debug("Periodic scan of {} not started: an operation runs", tenant);
                                            } else {
                                                LOG.warn(
                                                        "Periodic scan of {} could not start: {}",
                                                        tenant,
                                                        e.getMessage());
                                            }
                                        });
                            }
                        }));
                    }
                });
    }

    /** Tells whoever reacts to periodic scans (auto-repair) that {@code tenant}'s has completed. */
    private void completed(String tenant) {
        vertx.eventBus().send(ScanAddresses.PERIODIC_SCAN_COMPLETED, new TenantRef(tenant).toJson());
    }

    /** A scan that has started: its tracked operation, and the future of its end. */
    private record Run(TrackedOperation op, Future<Void> done) {}

    private Future<Run> begin(String tenant, String mode, Actor actor) {
        return begin(tenant, mode, DEFAULT_SAMPLE, null, new ScanReport("tenant:" + tenant, mode), actor);
    }

    private Future<Run> begin(String tenant, String mode, int sampleSize, Long seed, ScanReport report, Actor actor) {
        Future<Long> files = stores.metadata().count(new FileQuery(tenant, null, null));
        Future<Long> active = stores.metadata().count(new FileQuery(tenant, null, FileRecord.Status.ACTIVE));
        return Future.all(files, active).compose(v -> {
            Sample drawn = null;
            if ("quick".equals(mode)) {
                Sample sample = Sample.of(
                        seed != null ? seed : new java.security.SecureRandom().nextLong(), sampleSize, active.result());
                drawn = sample;
                report.seed(sample.seed());
                report.population(active.result());
            }
            Sample quick = drawn;
            return tracker.start(
                            tenant,
                            "scan",
                            "quick".equals(mode) ? Math.min(files.result(), sampleSize) : files.result(),
                            actor)
                    .map(op -> new Run(op, scan(op, tenant, mode, quick, report)));
        });
    }

    /**
     * Appends the finished scan's counts to the tenant's trend (and the sum over all tenants) before
     * the operation completes, so a client that saw it complete finds the sample. A trend that cannot
     * be written does not fail the scan; it is logged.
     */
    private Future<Void> trend(String tenant, ScanReport report) {
        JsonObject summary = report.toJson().getJsonObject(ScanReport.SUMMARY);
        return stores.trends()
                .append(TrendStore.Sample.ofSummary(tenant, Instant.now(), summary))
                .recover(e -> {
                    LOG.warn("The trend sample of the scan of {} could not be written: {}", tenant, e.getMessage());
                    return Future.succeededFuture();
                });
    }

    /**
     * Sends the tenant's partitions to {@link ScanAddresses#PARTITION}, {@code SYNC_SCAN_PARALLELISM}
     * at a time (any node may take each), adds each summary to the report and notes progress; stops
     * sending when the operation is ended elsewhere. A partition that fails fails the scan. {@code
     * quick}: the sample of a quick check, null for full and deep scans.
     */
    private Future<Void> scan(TrackedOperation op, String tenant, String mode, Sample quick, ScanReport report) {
        int partitions = config.sync().partitions();
        int[] done = {0};
        long[] files = {0};
        long known = op.record().progress().totalFiles();
        // This tenant's own counts, for its trend (report may be shared by the scans of several tenants).
        ScanReport own = new ScanReport("tenant:" + tenant, mode);
        return Lanes.forEach(Lanes.range(partitions), config.sync().scanParallelism(), partition -> {
                    if (op.stopped()) {
                        return Future.failedFuture(
                                "scan " + op.record().id() + " was ended before partition " + partition);
                    }
                    JsonObject request = new PartitionRequest(
                                    tenant,
                                    partition,
                                    mode,
                                    op.record().id(),
                                    quick == null ? null : quick.seed(),
                                    quick == null ? null : quick.rate())
                            .toJson();
                    // A partition only reads and writes verdicts again: if its node leaves, another takes it.
                    return ClusterBus.of(vertx)
                            .request(
                                    ScanAddresses.PARTITION,
                                    request,
                                    config.sync().maxTimeoutSeconds() * 1000L,
                                    ClusterBus.Target.SPREAD,
                                    true)
                            .map(reply -> {
                                report.add(reply);
                                own.add(reply);
                                done[0]++;
                                files[0] +=
                                        reply.getLong(ScanReport.Part.SEEN, reply.getLong(ScanReport.Part.TOTAL, 0L));
                                op.progressByPartition("detecting_changes", files[0], known, done[0], partitions);
                                return null;
                            });
                })
                .compose(v -> {
                    op.progressByPartition("finalizing", files[0], known, partitions, partitions);
                    return quick == null ? trend(tenant, own) : Future.succeededFuture();
                })
                // This tenant's count: in an all-tenant analyze, report holds every tenant's issues.
                .compose(v -> op.complete(
                        new JsonObject().put("issues", own.issueCount()).put(SyncOperation.RESULT_MODE, mode)))
                .recover(error -> op.stopped()
                        ? Future.failedFuture(error)
                        : op.fail("scan stopped at a store failure: " + error.getMessage())
                                .transform(ignored -> Future.failedFuture(error)));
    }
}
