package io.trisync.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trisync.config.TrisyncConfig;
import io.trisync.ops.StuckRule;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * trisync's own meters, on the node's Prometheus registry beside Vert.x's. Names follow Prometheus'
 * conventions once rendered: base units ({@code _seconds}), {@code _total} on counters, labels of
 * bounded cardinality (never a tenant or file id). The README's metrics table lists each.
 *
 * <p>Counters and timers count what this node did; the gauges of the stores' state ({@link
 * #storeState(StoreState)}) are the cluster's totals, read from the stores by whichever node is scraped, so a
 * query over several nodes takes their {@code max}, not their sum.
 */
public final class Metrics {

    private static final Duration[] OPERATION_BUCKETS = seconds(1, 5, 15, 60, 300, 900, 3600);
    private static final Duration[] REQUEST_BUCKETS = {
        Duration.ofMillis(5),
        Duration.ofMillis(25),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(1000),
        Duration.ofMillis(2500),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30)
    };

    private final MeterRegistry registry;
    private final AtomicInteger bridgeSockets = new AtomicInteger();
    // NaN until the stores' state is first read: no reading is not a healthy reading.
    private final AtomicReference<Double> driftRatio = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> oldestScanAge = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> neverScanned = new AtomicReference<>(Double.NaN);
    /** When the stores' state was last read (null: never); the ages above grow from it between readings. */
    private final AtomicReference<Instant> readAt = new AtomicReference<>();

    private final MultiGauge files;
    private final MultiGauge openIssues;
    private final MultiGauge running;
    private final Map<String, Map<String, Timer>> requestTimers = new ConcurrentHashMap<>();
    private final Map<String, Counter> storeErrors = new ConcurrentHashMap<>();
    private final Map<String, Counter> stuckCleaned = new ConcurrentHashMap<>();
    /** Meters every upload records, several times each: looked up here, not built and registered per call. */
    private final Map<String, Timer> stageTimers = new ConcurrentHashMap<>();

    private final Map<String, Counter> ingestCounters = new ConcurrentHashMap<>();
    private final Map<String, Timer> ingestTimers = new ConcurrentHashMap<>();

    public Metrics(MeterRegistry registry, long syncCheckIntervalSeconds) {
        this.registry = registry;
        Gauge.builder("trisync.bridge.sockets", bridgeSockets, AtomicInteger::get)
                .description("SockJS event-bus bridge sockets open on this node")
                .register(registry);
        Gauge.builder("trisync.drift.ratio", driftRatio, AtomicReference::get)
                .description("Files whose latest scan found them not synced, over the files scans checked")
                .register(registry);
        Gauge.builder("trisync.oldest.scan.age", oldestScanAge, age -> age.get() + sinceReading())
                .baseUnit("seconds")
                .description("Age of the oldest latest completed scan among tenants that have files")
                .register(registry);
        Gauge.builder("trisync.store.state.age", readAt, at -> sinceReading())
                .baseUnit("seconds")
                .description("Time since this node last read the stores' state for the gauges (NaN: not yet);"
                        + " it grows while a store is away and the gauges hold their last reading")
                .register(registry);
        Gauge.builder("trisync.tenants.never.scanned", neverScanned, AtomicReference::get)
                .description("Tenants that have files and no completed scan")
                .register(registry);
        Gauge.builder("trisync.sync.check.interval", () -> syncCheckIntervalSeconds)
                .baseUnit("seconds")
                .description("SYNC_CHECK_INTERVAL: how often each tenant is scanned")
                .register(registry);
        files = MultiGauge.builder("trisync.files")
                .description("Files by their latest scan verdict (unchecked: never scanned)")
                .register(registry);
        openIssues = MultiGauge.builder("trisync.open.issues")
                .description("Open issues by type, from the latest scans")
                .register(registry);
        running = MultiGauge.builder("trisync.operations.running")
                .description("Tracked operations running, by kind")
                .register(registry);
        // Counters an alert watches with increase() or rate() are exported at 0 from the first scrape:
        // a series that first appears at 1 shows no increase, so the first stuck operation or store
        // error would not alert.
        StuckRule.LAYERS.forEach(this::stuckCounter);
        STORES.forEach(this::storeErrorCounter);
    }

    /** The {@code store} label of the store meters, one per store client. */
    private static final List<String> STORES = List.of("mongodb", "s3", "qdrant");

    /** The meters of the node {@code config} describes, on the registry Vert.x made for it. */
    public static Metrics of(TrisyncConfig config) {
        MeterRegistry registry = BackendRegistries.getNow(registryName(config));
        return registry == null ? none() : forRegistry(registry, config);
    }

    private static synchronized Metrics forRegistry(MeterRegistry registry, TrisyncConfig config) {
        // One instance per registry: the gauges hold their values in this object.
        return SHARED.computeIfAbsent(
                registry, r -> new Metrics(r, config.sync().checkIntervalMinutes() * 60L));
    }

    private static final Map<MeterRegistry, Metrics> SHARED = new WeakHashMap<>();

    /** Meters that go nowhere a scrape sees, for components built outside a node. */
    public static Metrics none() {
        return new Metrics(new SimpleMeterRegistry(), 0);
    }

    /** The name of the registry Vert.x keeps for the node {@code config} describes. */
    public static String registryName(TrisyncConfig config) {
        return "trisync-" + config.nodeId();
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** One request to a store's client: {@code store} mongodb, s3 or qdrant; {@code operation} the client's name for it. */
    public void storeRequest(String store, String operation, long nanos, boolean failed) {
        // Every store call lands here: the meters are looked up in maps of our own rather than built
        // and registered anew each time (the names come from the adapters' code, so the maps stay small).
        requestTimers
                .computeIfAbsent(store, s -> new ConcurrentHashMap<>())
                .computeIfAbsent(operation, op -> Timer.builder("trisync.store.request.duration")
                        .description("Requests to the stores' clients")
                        .tags("store", store, "operation", op)
                        .serviceLevelObjectives(REQUEST_BUCKETS)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
        if (failed) {
            storeErrorCounter(store).increment();
        }
    }

    private Counter storeErrorCounter(String store) {
        return storeErrors.computeIfAbsent(store, s -> Counter.builder("trisync.store.errors")
                .description("Store requests that failed (an answer such as not found is not a failure)")
                .tag("store", s)
                .register(registry));
    }

    /** A tracked operation ended: {@code outcome} its final status (completed, failed, timed_out, cancelled). */
    public void operationEnded(String kind, String outcome, Duration took) {
        Counter.builder("trisync.operations")
                .description("Tracked operations ended, by kind and final status")
                .tags("kind", kind, "outcome", outcome)
                .register(registry)
                .increment();
        Timer.builder("trisync.operation.duration")
                .description("How long tracked operations ran")
                .tag("kind", kind)
                .serviceLevelObjectives(OPERATION_BUCKETS)
                .register(registry)
                .record(took.isNegative() ? Duration.ZERO : took);
    }

    /** A monitor ended a stuck operation; {@code layer} the check that caught it (process, cluster, deadline, heartbeat). */
    public void stuckCleaned(String layer) {
        stuckCounter(layer).increment();
    }

    private Counter stuckCounter(String layer) {
        return stuckCleaned.computeIfAbsent(layer, l -> Counter.builder("trisync.stuck.operations.cleaned")
                .description("Stuck tracked operations ended by a monitor, by the check that caught them")
                .tag("layer", l)
                .register(registry));
    }

    /**
     * An upload or delete ended: {@code outcome} ok, replayed (a repeated idempotency key), accepted
     * (answered while still completing) or error.
     */
    public void ingest(String kind, String outcome, long nanos) {
        ingestCounters
                .computeIfAbsent(kind + " " + outcome, k -> Counter.builder("trisync.ingest")
                        .description("Uploads and deletes, by outcome")
                        .tags("kind", kind, "outcome", outcome)
                        .register(registry))
                .increment();
        ingestTimers
                .computeIfAbsent(kind, k -> Timer.builder("trisync.ingest.duration")
                        .description("How long uploads and deletes took, from the body received to the answer")
                        .tag("kind", kind)
                        .serviceLevelObjectives(REQUEST_BUCKETS)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * One stage of a new file's upload took {@code nanos}: on the receiving node {@code begin} (the
     * request that records the operation), {@code blob_put} (S3, retries included) and {@code
     * completion} (asked for until answered, the wait for the rest of its cohort included); on the
     * completing node {@code index} (text extraction and embedding), {@code writes} (record and
     * points, or record and index job when the vectors wait), {@code commit} (beside the event
     * numbers) and {@code events} (logged). Failed stages count too; a repeated Idempotency-Key
     * (answered from the first upload) and new versions of a file are not timed.
     */
    public void uploadStage(String stage, long nanos) {
        stageTimers
                .computeIfAbsent(stage, s -> Timer.builder("trisync.upload.stage.duration")
                        .description("How long each stage of an upload took")
                        .tag("stage", s)
                        .serviceLevelObjectives(REQUEST_BUCKETS)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Recovery ended an unfinished ingest operation: {@code action} undone, published or rolled_forward. */
    public void recovered(String action) {
        Counter.builder("trisync.recovered.operations")
                .description("Unfinished ingest operations that recovery ended, by what it did")
                .tag("action", action)
                .register(registry)
                .increment();
    }

    /** The model embedded {@code chunks} texts in one call. */
    public void embedded(int chunks, long nanos, boolean failed) {
        if (!failed) {
            Counter.builder("trisync.embedding.chunks")
                    .description("Chunks embedded")
                    .register(registry)
                    .increment(chunks);
        }
        Timer.builder("trisync.embedding.duration")
                .description("Calls to the embedding model")
                .tag("outcome", failed ? "error" : "ok")
                .serviceLevelObjectives(REQUEST_BUCKETS)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void bridgeSocketOpened() {
        bridgeSockets.incrementAndGet();
    }

    public void bridgeSocketClosed() {
        bridgeSockets.decrementAndGet();
    }

    public void eventPublished(String type) {
        Counter.builder("trisync.events.published")
                .description("Events logged and published, by type")
                .tag("type", type)
                .register(registry)
                .increment();
    }

    /** A retention pass removed {@code n} expired records of one kind. */
    public void retentionRemoved(String record, long n) {
        Counter.builder("trisync.retention.removed")
                .description("Expired records removed by the retention sweep, by kind of record")
                .tag("record", record)
                .register(registry)
                .increment(n);
    }

    /** A retention pass ended: {@code outcome} ok or error. */
    public void retentionSwept(String outcome) {
        Counter.builder("trisync.retention.sweeps")
                .description("Retention sweeps run on this node")
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    /** A Qdrant listing, read or search of {@code collection} met a point trisync did not write (and left it out). */
    public void foreignPoint(String collection) {
        Counter.builder("trisync.qdrant.foreign.points")
                .description("Points met in Qdrant that trisync did not write, left out of scans and searches"
                        + " (each time one is met), by collection")
                .tag("collection", collection)
                .register(registry)
                .increment();
    }

    /** A search left out {@code hits} for {@code reason} (the issue type they showed). */
    public void searchExcluded(String reason, long hits) {
        Counter.builder("trisync.search.excluded")
                .description("Search hits left out because the stores disagreed on them, by issue type")
                .tag("reason", reason)
                .register(registry)
                .increment(hits);
    }

    /** The cluster's state as the stores hold it. */
    public void storeState(StoreState reading) {
        files.register(rows("status", reading.filesByVerdict()), true);
        openIssues.register(rows("type", reading.openIssuesByType()), true);
        running.register(rows("kind", reading.runningByKind()), true);
        driftRatio.set(reading.driftRatio());
        oldestScanAge.set(reading.oldestScanAgeSeconds());
        neverScanned.set((double) reading.tenantsNeverScanned());
        readAt.set(reading.at());
    }

    /** Seconds since the last reading of the stores' state; NaN before the first. */
    private double sinceReading() {
        Instant at = readAt.get();
        return at == null
                ? Double.NaN
                : Math.max(0, Duration.between(at, Instant.now()).toMillis() / 1000.0);
    }

    private static List<MultiGauge.Row<?>> rows(String label, Map<String, Long> counts) {
        return counts.entrySet().stream()
                .<MultiGauge.Row<?>>map(e -> MultiGauge.Row.of(Tags.of(label, e.getKey()), e.getValue()))
                .toList();
    }

    private static Duration[] seconds(long... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofSeconds(values[i]);
        }
        return out;
    }
}
