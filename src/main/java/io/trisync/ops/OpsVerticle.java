package io.trisync.ops;

import io.trisync.bus.Membership;
import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ops.OpsMessages.CancelRequest;
import io.trisync.ops.OpsMessages.HistoryQuery;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.IndexQueue;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Answers the tracked-operation requests of the HTTP API ({@link OpsAddresses}): a tenant's status,
 * the history, cancel, the service status, and the on-demand stuck-operation cleanup (layer 3).
 */
public final class OpsVerticle extends RequestVerticle {

    private final TrisyncConfig config;
    private final Stores stores;
    private Membership membership;
    private StuckSweep stuck;
    private OperationTracker tracker;

    public OpsVerticle(TrisyncConfig config, Stores stores) {
        this.config = config;
        this.stores = stores;
    }

    @Override
    public Future<?> start() {
        membership = Membership.of(vertx, config.nodeId());
        stuck = StuckSweep.of(vertx, config, stores, membership);
        tracker = OperationTracker.of(vertx, config, stores, EventPublisher.of(vertx, config, stores));
        consume(OpsAddresses.STATUS, this::status);
        consume(OpsAddresses.CLEANUP, body -> stuck.run(
                        OpsMessages.CleanupRequest.fromJson(body).actor())
                .map(n -> new JsonObject().put("cleaned", n)));
        consume(OpsAddresses.HISTORY, this::history);
        consume(OpsAddresses.CANCEL, this::cancel);
        consume(OpsAddresses.SERVICE_STATUS, body -> serviceStatus());
        return consumersReady();
    }

    private Future<JsonObject> status(JsonObject body) {
        String tenant = Ids.require("tenant_id", TenantRef.fromJson(body).tenantId());
        Future<List<SyncOperation>> latest = stores.syncOperations().history(tenant, null, 1);
        Future<Long> total = stores.metadata().count(new FileQuery(tenant, null, FileRecord.Status.ACTIVE));
        Future<Long> ingesting = stores.operations().countOpen(tenant);
        Future<IndexQueue.Counts> queued = stores.indexQueue().count(tenant, Instant.now());
        Future<Long> failed = stores.metadata().countIndexingFailed(tenant);
        return Future.all(latest, total, ingesting, queued, failed).map(all -> new JsonObject()
                .put(
                        "latest_sync",
                        latest.result().isEmpty()
                                ? null
                                : latest.result().get(0).toPublicJson())
                .put(
                        "file_status",
                        new JsonObject()
                                .put("total", total.result())
                                // Uploads and deletes under way, and pending files whose vectors are being made now.
                                .put(
                                        "processing",
                                        ingesting.result() + queued.result().processing())
                                .put(
                                        "pending",
                                        queued.result().pending()
                                                - queued.result().processing())
                                .put("failed", failed.result())));
    }

    private Future<JsonObject> serviceStatus() {
        Future<List<SyncOperation>> running = stores.syncOperations().allRunning();
        Future<Long> openIngest = stores.operations().countOpen(null);
        Future<JsonObject> health = stores.health();
        // Nodes by their NODE_ID, the name the logs and the operations' node_id use.
        List<String> live = membership.liveNames();
        return Future.all(running, openIngest, health).map(all -> new JsonObject()
                .put("service_running", allUp(health.result()))
                .put("node_id", membership.name())
                .put("nodes", new JsonArray(live))
                .put("running_operations", running.result().size())
                .put("open_ingest_operations", openIngest.result())
                .put("stores", health.result())
                .put("timestamp", Instant.now().toString()));
    }

    /** Whether every store answered its readiness ping just now: the service can do its work. */
    private static boolean allUp(JsonObject health) {
        return health.fieldNames().stream()
                .allMatch(store -> "UP".equals(health.getJsonObject(store).getString("status")));
    }

    private Future<JsonObject> history(JsonObject body) {
        HistoryQuery query = HistoryQuery.fromJson(body);
        String tenant = query.tenantId();
        if (tenant != null) {
            Ids.require("tenant_id", tenant);
        }
        SyncOperation.Status status = query.status() == null ? null : parseStatus(query.status());
        int limit = query.limit();
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
        CancelRequest request = CancelRequest.fromJson(body);
        String id = request.opId();
        if (id == null || id.isBlank()) {
            throw new Failure.BadRequest("operation id is required");
        }
        String tenant = request.tenantId();
        return stores.syncOperations()
                .get(id)
                .compose(op -> tenant != null && !tenant.equals(op.tenantId())
                        ? Future.failedFuture(new Failure.NotFound("no operation " + id))
                        : tracker.cancel(
                                        op,
                                        "cancelled on request by "
                                                + request.actor().subject(),
                                        new JsonObject()
                                                .put(
                                                        "cancelled_by",
                                                        request.actor().toJson()))
                                .compose(ended -> ended
                                        ? cancelled(op)
                                        // Ended meanwhile (another cancel, its own end): name the status it has now.
                                        : stores.syncOperations()
                                                .get(id)
                                                .compose(now -> Future.failedFuture(
                                                        new Failure.Conflict("sync " + id + " is not running ("
                                                                + now.status().wire() + ")")))));
    }

    private Future<JsonObject> cancelled(SyncOperation op) {
        return stores.syncOperations().get(op.id()).map(SyncOperation::toPublicJson);
    }

    private static SyncOperation.Status parseStatus(String value) {
        try {
            return SyncOperation.Status.fromWire(value);
        } catch (IllegalArgumentException e) {
            throw new Failure.BadRequest("status must be one of running, completed, failed, timed_out, cancelled");
        }
    }
}
