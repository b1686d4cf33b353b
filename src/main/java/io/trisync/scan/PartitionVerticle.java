package io.trisync.scan;

import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.scan.ScanMessages.PartitionRequest;
import io.trisync.store.Ids;
import io.trisync.store.IssueRecord;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.trisync.store.VectorSpaces;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scan's unit of work: owns {@link ScanAddresses#PARTITION}. For one (tenant, partition) it reads
 * the three stores ({@link PartitionReader}), reconciles ({@link Reconciler}), confirms each issue
 * against a fresh look at its file and leaves out files an ingest operation is writing ({@link
 * Confirmation}), keeps the results ({@link ResultKeeper}) and replies with the partition's summary.
 * A node deploys several instances, each on its own event loop, so the partitions one scan sends at
 * once are read and reconciled in parallel on this node as well as across the cluster.
 */
public final class PartitionVerticle extends RequestVerticle {

    private final TrisyncConfig config;
    private final Stores stores;
    private final Reconciler reconciler;
    private PartitionReader reader;
    private Confirmation confirmation;
    private ResultKeeper keeper;

    /** {@code model}: the model this node embeds with; files embedded by another are {@code STALE_VECTORS}. */
    public PartitionVerticle(TrisyncConfig config, Stores stores, String model) {
        this.config = config;
        this.stores = stores;
        this.reconciler = new Reconciler(model);
    }

    @Override
    public Future<?> start() {
        reader = new PartitionReader(stores, config.sync().batchSize());
        confirmation = new Confirmation(stores, reconciler, reader);
        keeper = new ResultKeeper(stores, EventPublisher.of(vertx, config, stores));
        consume(ScanAddresses.PARTITION, this::partition);
        return consumersReady();
    }

    /** Scans one partition here: read, reconcile, confirm, keep; replies with its summary. */
    private Future<JsonObject> partition(JsonObject body) {
        PartitionRequest request = PartitionRequest.fromJson(body);
        String tenant = Ids.require("tenant_id", request.tenantId());
        int partition = request.partition();
        if ("quick".equals(request.mode())) {
            Sample sample = new Sample(request.seed(), request.rate());
            return reader.readQuick(tenant, partition, sample).compose(quick -> {
                List<FileReport> listed = reconciler.reconcile(quick.listings(), targetModel(stores));
                return confirmation
                        .confirm(tenant, partition, listed, request.mode())
                        .map(judged -> quick(quick, judged));
            });
        }
        // A deep scan reads every object's bytes and looks at every candidate again; a full scan
        // starts from the partition's open issues, read beside its listings.
        Future<List<IssueRecord>> open = "deep".equals(request.mode())
                ? Future.succeededFuture(List.of())
                : stores.issues().open(tenant, partition);
        return scan(request, open);
    }

    /** A full or deep scan of the partition, {@code open} its open issues as they are read (none for a deep scan). */
    private Future<JsonObject> scan(PartitionRequest request, Future<List<IssueRecord>> open) {
        String tenant = request.tenantId();
        int partition = request.partition();
        // An issue only the bytes show (a checksum a deep scan found) is invisible to a full scan's
        // listings: its file's bytes are hashed again, so it is closed only when it is gone, unless
        // the issue names the very object listed now (its bytes were hashed, nothing wrote it since).
        Set<String> contentOnly = Set.copyOf(IssueType.contentOnly());
        Map<String, JsonObject> details = new HashMap<>();
        Future<KnownContent> known = open.map(issues -> {
            issues.stream()
                    .filter(issue -> contentOnly.contains(issue.type()))
                    .forEach(issue -> details.put(issue.fileId(), issue.details()));
            return KnownContent.of(details);
        });
        return reader.read(tenant, partition, "deep".equals(request.mode()), known)
                .compose(read -> {
                    // The read waited for the open issues (its checksums need what they know).
                    KnownIssues issues = KnownIssues.of(open.result());
                    // Only the verdicts are kept from here on: the listings are not held while
                    // candidates are looked at.
                    Map<String, SyncVerdict> held = read.verdicts();
                    Set<String> hashed = new HashSet<>(details.keySet());
                    hashed.removeAll(read.known());
                    KnownIssues.Settled listed =
                            issues.settle(reconciler.reconcile(read.listings(), targetModel(stores)), hashed);
                    return confirmation
                            .confirm(tenant, partition, listed, request.mode(), hashed, known.result())
                            .compose(judged -> keeper.keep(tenant, partition, judged, held, request.opId())
                                    .map(v -> ScanReport.Part.foreign(
                                            ScanReport.Part.of(judged.files(), judged.inFlight())
                                                    .put(ScanReport.Part.NODE, config.nodeId()),
                                            read.foreign(),
                                            read.foreignPoints())));
                });
    }

    /**
     * A quick check's summary of a partition. A file whose record appeared between the listings (an
     * upload that completed) is confirmed whole but is not in the sample: left out.
     */
    private JsonObject quick(PartitionReader.Quick quick, Confirmation.Judged judged) {
        List<FileReport> files = judged.files().stream()
                .filter(f -> !f.active() || quick.sampled().contains(f.fileId()))
                .toList();
        long inconsistent = files.stream()
                .filter(f -> quick.sampled().contains(f.fileId()) && !f.issues().isEmpty())
                .count();
        return ScanReport.Part.foreign(
                        ScanReport.Part.of(files, judged.inFlight()), quick.foreign(), quick.foreignPoints())
                .put(ScanReport.Part.NODE, config.nodeId())
                .put(ScanReport.Part.SAMPLED, quick.sampled().size())
                .put(ScanReport.Part.SAMPLED_INCONSISTENT, inconsistent);
    }

    /** The model whose collection a change of model fills, or null when none runs. */
    static String targetModel(Stores stores) {
        VectorSpaces spaces = stores.vectors().spaces();
        return spaces == null || !spaces.migrating() ? null : spaces.target().model();
    }
}
