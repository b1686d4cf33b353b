package io.trisync.http;

import io.trisync.metrics.Metrics;
import io.trisync.metrics.StoreState;
import io.trisync.scan.IssueType;
import io.trisync.scan.Verdict;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: the node's Prometheus registry, its gauges of the stores' state read again
 * first when the last reading is older than {@code METRICS_STORE_REFRESH_SECONDS}. A scrape during a
 * store outage still answers, with the last reading (and {@code trisync_store_errors_total} rising).
 */
final class MetricsEndpoint implements Handler<RoutingContext> {

    /** The kinds of tracked operation counted running (0 when none): those started by kind, and erasures. */
    private static final List<String> RUNNING_KINDS = Stream.concat(
                    SyncOpsApi.KINDS.stream().sorted(), Stream.of("erase"))
            .toList();

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);
    /** One reading in flight or fresh per node, shared by the HTTP verticle instances. */
    private static final Map<Metrics, AtomicReference<Reading>> READINGS = new WeakHashMap<>();

    private record Reading(long at, Future<Void> done) {}

    private final Stores stores;
    private final Metrics metrics;
    private final long refreshMillis;
    private final Handler<RoutingContext> scrape;
    private final AtomicReference<Reading> last;

    MetricsEndpoint(Stores stores, Metrics metrics, String registryName, int refreshSeconds) {
        this.stores = stores;
        this.metrics = metrics;
        this.refreshMillis = refreshSeconds * 1000L;
        this.scrape = PrometheusScrapingHandler.create(registryName);
        synchronized (READINGS) {
            this.last = READINGS.computeIfAbsent(metrics, m -> new AtomicReference<>());
        }
    }

    @Override
    public void handle(RoutingContext ctx) {
        fresh().onComplete(done -> scrape.handle(ctx));
    }

    /** A reading no older than the refresh interval: the current one, the one in flight, or a new one. */
    private Future<Void> fresh() {
        long now = System.currentTimeMillis();
        Reading current = last.get();
        if (current != null && (!current.done().isComplete() || now - current.at() < refreshMillis)) {
            return current.done();
        }
        Future<Void> reading = read();
        Reading next = new Reading(now, reading);
        return last.compareAndSet(current, next) ? reading : fresh();
    }

    private Future<Void> read() {
        Future<Map<String, Long>> files = stores.metadata().countByVerdict();
        Future<Map<String, Long>> issues = stores.issues().countByType();
        Future<List<SyncOperation>> running = stores.syncOperations().allRunning();
        Future<Map<String, Instant>> scans = stores.syncOperations().lastScans();
        Future<List<String>> tenants = stores.metadata().tenants();
        return Future.all(files, issues, running, scans, tenants)
                .timeout(Stores.READINESS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .onSuccess(all -> {
                    Map<String, Long> byVerdict = new HashMap<>();
                    files.result()
                            .forEach((verdict, n) ->
                                    byVerdict.merge(verdict == null ? StoreState.UNCHECKED : verdict, n, Long::sum));
                    Map<String, Long> byKind = new HashMap<>();
                    running.result().forEach(op -> byKind.merge(op.kind(), 1L, Long::sum));
                    Map<String, Instant> lastScans = new HashMap<>();
                    tenants.result()
                            .forEach(t -> lastScans.put(t, scans.result().get(t)));
                    metrics.storeState(StoreState.of(
                            byVerdict,
                            Arrays.stream(Verdict.values()).map(Verdict::wire).toList(),
                            issues.result(),
                            Arrays.stream(IssueType.values()).map(Enum::name).toList(),
                            byKind,
                            RUNNING_KINDS,
                            lastScans,
                            Instant.now()));
                })
                .onFailure(e -> LOG.warn("Metrics kept their last reading of the stores: {}", e.getMessage()))
                .<Void>mapEmpty()
                .otherwiseEmpty();
    }
}
