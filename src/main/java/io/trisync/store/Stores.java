package io.trisync.store;

import io.trisync.config.TrisyncConfig;
import io.trisync.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.ext.mongo.MongoClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The store adapters of one node, created together, readied together and closed together: the three
 * stores trisync keeps in agreement, and the operation and event logs that live in MongoDB beside
 * the metadata (on the same client): operations, events, open issues, quarantine and repair audit,
 * the queue of files whose vectors are still to be made, this node's incarnation among the
 * others recorded there, and the deployment's partition count its {@code SYNC_PARTITIONS} must match.
 */
public record Stores(
        MetadataStore metadata,
        BlobStore blobs,
        VectorStore vectors,
        OperationLog operations,
        EventStore events,
        SyncOperationStore syncOperations,
        IssueStore issues,
        RepairStore repairs,
        IndexQueue indexQueue,
        ReindexCheckpoints checkpoints,
        TenantErasures erasures,
        TrendStore trends,
        Incarnations incarnations,
        DeploymentPartitions partitions) {

    /** How long a readiness check may take before its store counts as down. */
    public static final long READINESS_TIMEOUT_MS = 3000;

    /** Adapters for the addresses in {@code config} (embedded ones already filled in). */
    public static Stores create(Vertx vertx, TrisyncConfig config) {
        Metrics metrics = Metrics.of(config);
        MongoClient mongo = MongoGate.around(
                vertx, MongoClient.create(vertx, MongoMetadataStore.clientConfig(config.mongo())), metrics);
        return new Stores(
                new MongoMetadataStore(mongo, config.sync().partitions()),
                new S3BlobStore(vertx, config.s3(), metrics),
                new SpacedVectorStore(new QdrantVectorStore(vertx, config.qdrant(), metrics), mongo, config),
                new MongoOperationLog(mongo),
                new MongoEventStore(mongo, config.events().queueSize()),
                new MongoSyncOperationStore(mongo),
                new MongoIssueStore(mongo),
                new MongoRepairStore(mongo),
                new MongoIndexQueue(mongo),
                new MongoReindexCheckpoints(mongo),
                new MongoTenantErasures(mongo),
                new MongoTrendStore(mongo),
                incarnations(vertx, config, mongo),
                new DeploymentPartitions(mongo, config.sync().partitions(), config.nodeId()));
    }

    /** This node's incarnation (its cluster node id when clustered) and the judge of others'. */
    private static Incarnations incarnations(Vertx vertx, TrisyncConfig config, MongoClient mongo) {
        ClusterManager cluster = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
        Incarnation self = Incarnation.ofThisProcess(
                config.nodeId(), config.clusterName(), cluster == null ? null : cluster.getNodeId());
        return new Incarnations(
                vertx,
                new MongoIncarnationStore(mongo),
                self,
                () -> cluster == null ? null : new HashSet<>(cluster.getNodes()),
                Incarnations.staleAfter(Duration.ofSeconds(config.ingest().recoveryGraceSeconds())));
    }

    /**
     * Checks the configured {@code SYNC_PARTITIONS} against the deployment's data ({@link
     * DeploymentPartitions}: failed, and nothing else done, when they differ), then creates indexes, the
     * bucket and the collection where missing.
     */
    public Future<Void> init() {
        return partitions
                .settle()
                .compose(count -> Future.all(List.of(
                        metadata.init(),
                        blobs.init(),
                        vectors.init(),
                        operations.init(),
                        events.init(),
                        syncOperations.init(),
                        issues.init(),
                        repairs.init(),
                        indexQueue.init(),
                        trends.init())))
                .mapEmpty();
    }

    /**
     * Each store's readiness: {@code {"mongodb": {"status": "UP"}, "s3": {"status": "DOWN", "error": …}, …}}.
     * Never fails; a store that does not answer within {@link #READINESS_TIMEOUT_MS} is DOWN.
     */
    public Future<JsonObject> health() {
        List<String> names = List.of("mongodb", "s3", "qdrant");
        List<Future<Void>> pings = List.of(metadata.ping(), blobs.ping(), vectors.ping());
        List<Future<JsonObject>> states = pings.stream().map(Stores::state).toList();
        return Future.join(states).map(all -> {
            JsonObject out = new JsonObject();
            for (int i = 0; i < names.size(); i++) {
                out.put(names.get(i), states.get(i).result());
            }
            return out;
        });
    }

    /** Pings one store by name ({@code mongodb}, {@code s3}, {@code qdrant}), within the readiness timeout. */
    public Future<Void> ping(String store) {
        Future<Void> ping =
                switch (store) {
                    case "mongodb" -> metadata.ping();
                    case "s3" -> blobs.ping();
                    case "qdrant" -> vectors.ping();
                    default -> Future.failedFuture(new IllegalArgumentException("no store " + store));
                };
        return ping.timeout(READINESS_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** Closes the three clients (the logs share MongoDB's); completes when all are closed, whatever each reported. */
    public Future<Void> close() {
        return Future.join(metadata.close(), blobs.close(), vectors.close()).mapEmpty();
    }

    private static Future<JsonObject> state(Future<Void> ping) {
        return ping.timeout(READINESS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .map(v -> new JsonObject().put("status", "UP"))
                .otherwise(e -> new JsonObject().put("status", "DOWN").put("error", String.valueOf(e.getMessage())));
    }
}
