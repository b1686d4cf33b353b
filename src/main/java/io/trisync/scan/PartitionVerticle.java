package io.trisync.scan;

import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.scan.ScanMessages.PartitionRequest;
import io.trisync.store.Ids;
import io.trisync.store.Stores;
import io.trisync.store.VectorSpaces;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The scan's unit of work: owns {@link ScanAddresses#PARTITION}. For one (tenant, partition) it reads
 * the three stores ({@link PartitionReader}), reconciles ({@link Reconciler}), keeps the results
 * ({@link ResultKeeper}) and replies with the partition's summary. A node deploys several instances,
 * each on its own event loop, so the partitions one scan sends at once are read and reconciled in
 * parallel on this node as well as across the cluster.
 */
public final class PartitionVerticle extends RequestVerticle {

    private final TrisyncConfig config;
    private final Stores stores;
    private final Reconciler reconciler;
    private PartitionReader reader;
    private ResultKeeper keeper;

    /** {@code model}: the model this node embeds with; files embedded by another are {@code STALE_VECTORS}. */
    public PartitionVerticle(TrisyncConfig config, Stores stores, String model) {
        this.config = config;
        this.stores = stores;
        this.reconciler = new Reconciler(model);
    }

    @Override
    public Future<?> start() {
        reader = new PartitionReader(vertx, stores, config.sync().batchSize());
        keeper = new ResultKeeper(stores, EventPublisher.of(vertx, config, stores));
        consume(ScanAddresses.PARTITION, this::partition);
        return consumersReady();
    }

    /** Scans one partition here: read, reconcile, keep; replies with its summary. */
    private Future<JsonObject> partition(JsonObject body) {
        PartitionRequest request = PartitionRequest.fromJson(body);
        String tenant = Ids.require("tenant_id", request.tenantId());
        int partition = request.partition();
        String opId = request.opId();
        if ("quick".equals(request.mode())) {
            Sample sample = new Sample(request.seed(), request.rate());
            return reader.readQuick(tenant, partition, sample).map(quick -> {
                List<FileReport> files = reconciler.reconcile(quick.listings(), retiringModel(stores));
                long inconsistent = files.stream()
                        .filter(f -> quick.sampled().contains(f.fileId())
                                && !f.issues().isEmpty())
                        .count();
                return ScanReport.Part.of(files)
                        .put(ScanReport.Part.NODE, config.nodeId())
                        .put(ScanReport.Part.SAMPLED, quick.sampled().size())
                        .put(ScanReport.Part.SAMPLED_INCONSISTENT, inconsistent);
            });
        }
        return reader.read(tenant, partition, "deep".equals(request.mode())).compose(read -> {
            List<FileReport> files = reconciler.reconcile(read.listings(), retiringModel(stores));
            return keeper.keep(tenant, partition, files, read.verdicts(), opId)
                    .map(v -> ScanReport.Part.of(files).put(ScanReport.Part.NODE, config.nodeId()));
        });
    }

    /** The model whose collection is being retired by a change of dimension, or null. */
    static String retiringModel(Stores stores) {
        VectorSpaces.Space retiring = stores.vectors().retiring();
        return retiring == null ? null : retiring.model();
    }
}
