package io.trisync.ops;

import io.trisync.bus.Ids;
import io.trisync.bus.Requests;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches tracked sync operations (layer 2): every {@code SYNC_CLEANUP_INTERVAL_SECONDS}, and as soon
 * as a cluster member leaves, fails every running operation that is stuck: heartbeat older than three
 * intervals, expected duration passed, or node gone. Runs on every node; the fenced finish makes two
 * monitors ending the same operation harmless (only one write matches). Also answers the ops
 * requests of the HTTP API: status, cleanup (layer 3), history, cancel.
 */
public final class HeartbeatMonitorVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatMonitorVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private StuckRule rule;
    private EventPublisher events;
    private Membership membership;
    private UUID membershipListener;
    private long timer = -1;

    public HeartbeatMonitorVerticle(TrisyncConfig config, Stores stores) {
        this.config = config;
        this.stores = stores;
    }

    @Override
    public Future<?> start() {
        rule = new StuckRule(Duration.ofSeconds(config.sync().heartbeatIntervalSeconds()));
        events = new EventPublisher(vertx.eventBus(), stores.events());
        membership = Membership.of(vertx, config.nodeId());
        var context = vertx.getOrCreateContext();
        membershipListener = membership.onMemberLeft(() -> context.runOnContext(v -> sweep()));
        timer = vertx.setPeriodic(config.sync().cleanupIntervalSeconds() * 1000L, id -> sweep());
        consume(OpsAddresses.STATUS, this::status);
        consume(OpsAddresses.CLEANUP, body -> sweep().map(n -> new JsonObject().put("cleaned", n)));
        consume(OpsAddresses.HISTORY, this::history);
        consume(OpsAddresses.CANCEL, this::cancel);
        consume(OpsAddresses.SERVICE_STATUS, body -> serviceStatus());
        return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
                .onSuccess(v ->
                        sweep().onFailure(e -> LOG.warn("First stuck-operation sweep failed: {}", e.getMessage())));
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        membership.removeListener(membershipListener);
        return Future.join(consumers.stream().map(MessageConsumer::unregister).toList());
    }

    /** Fails every stuck running operation; completes with how many this node ended. */
    Future<Integer> sweep() {
        return stores.syncOperations().allRunning().compose(running -> stores.incarnations()
                .goneAmong(running.stream().map(SyncOperation::incarnation).toList())
                .compose(gone -> endStuck(running, gone)));
    }

    /** Ends every operation of {@code running} the stuck rule condemns; completes with how many it ended. */
    private Future<Integer> endStuck(List<SyncOperation> running, Map<String, String> gone) {
        Instant now = Instant.now();
        Set<String> live = membership.liveNodes();
        List<Future<Boolean>> ended = new ArrayList<>();
        for (SyncOperation op : running) {
            StuckRule.Verdict verdict = rule.judge(op, now, live, gone);
            if (verdict != null) {
                ended.add(OperationTracker.endStuck(stores.syncOperations(), events, op, verdict));
            }
        }
        return Future.join(ended).map(all -> {
            int n = (int)
                    ended.stream().filter(f -> f.succeeded() && f.result()).count();
            if (n > 0) {
                LOG.info("Cleaned up {} stuck sync operations", n);
            }
            return n;
        });
    }

    private Future<JsonObject> status(JsonObject body) {
        String tenant = Ids.require("tenant_id", body.getString("tenantId"));
        Future<List<SyncOperation>> latest = stores.syncOperations().history(tenant, null, 1);
        Future<Long> total = stores.metadata().count(new FileQuery(tenant, null, FileRecord.Status.ACTIVE));
        Future<Long> processing = stores.operations().countOpen(tenant);
        return Future.all(latest, total, processing).map(all -> new JsonObject()
                .put(
                        "latest_sync",
                        latest.result().isEmpty()
                                ? null
                                : latest.result().get(0).toPublicJson())
                .put(
                        "file_status",
                        new JsonObject().put("total", total.result()).put("processing", processing.result())));
    }

    private Future<JsonObject> serviceStatus() {
        Future<List<SyncOperation>> running = stores.syncOperations().allRunning();
        Future<Long> openIngest = stores.operations().countOpen(null);
        Future<JsonObject> health = stores.health();
        Set<String> live = membership.liveNodes();
        return Future.all(running, openIngest, health).map(all -> new JsonObject()
                .put("service_running", true)
                .put("initialized", true)
                .put("node_id", membership.nodeId())
                .put("nodes", new JsonArray(live == null ? List.of(membership.nodeId()) : List.copyOf(live)))
                .put("running_operations", running.result().size())
                .put("open_ingest_operations", openIngest.result())
                .put("stores", health.result())
                .put("timestamp", Instant.now().toString()));
    }

    private Future<JsonObject> history(JsonObject body) {
        String tenant = body.getString("tenantId");
        if (tenant != null) {
            Ids.require("tenant_id", tenant);
        }
        SyncOperation.Status status = body.getString("status") == null ? null : parseStatus(body.getString("status"));
        int limit = body.getInteger("limit", 50);
        if (limit < 1 || limit > 500) {
            throw new Failure.BadRequest("limit must be between 1 and 500");
        }
        return stores.syncOperations().history(tenant, status, limit).map(ops -> new JsonObject()
                .put(
                        "operations",
                        new JsonArray(
                                ops.stream().map(SyncOperation::toPublicJson).toList())));
    }

    private Future<JsonObject> cancel(JsonObject body) {
        String id = body.getString("opId");
        if (id == null || id.isBlank()) {
            throw new Failure.BadRequest("operation id is required");
        }
        String tenant = body.getString("tenantId");
        return stores.syncOperations()
                .get(id)
                .compose(op -> tenant != null && !tenant.equals(op.tenantId())
                        ? Future.failedFuture(new Failure.NotFound("no operation " + id))
                        : stores.syncOperations()
                                .finish(op, SyncOperation.Status.CANCELLED, "cancelled on request", null)
                                .compose(ended -> ended
                                        ? stores.syncOperations().get(id).map(SyncOperation::toPublicJson)
                                        : Future.failedFuture(new Failure.Conflict("sync " + id + " is not running ("
                                                + op.status().wire() + ")"))));
    }

    private static SyncOperation.Status parseStatus(String value) {
        try {
            return SyncOperation.Status.fromWire(value);
        } catch (IllegalArgumentException e) {
            throw new Failure.BadRequest("status must be one of running, completed, failed, timed_out, cancelled");
        }
    }

    private void consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
        consumers.add(Requests.consume(vertx.eventBus(), address, handler));
    }
}
