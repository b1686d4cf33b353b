package io.trisync.ingest;

import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.EraseTenant;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TrackedOperation;
import io.trisync.store.Actor;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.store.TenantErasures;
import io.trisync.store.TenantErasures.Erasure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Erases a tenant ({@code DELETE /api/tenants/{id}}) as a tracked operation of kind {@code erase}:
 * marks it (its uploads and edits are then refused with 409 {@code tenant_erasing}, on every node
 * within {@link TenantErasures#LEASE}, which the erasure waits before it removes anything), cancels the
 * operation it has running, removes its blobs (files, quarantine, backups), its points and every
 * record trisync keeps of it, and verifies that nothing of it remains in any store before it marks the
 * erasure done. Every step is idempotent: an erasure cut off by a crash is found by the sweep here
 * (at start and every {@code SYNC_CLEANUP_INTERVAL_SECONDS}, once the monitor has failed its
 * operation) and run again from the start. What it removes is counted on the erasure as it goes
 * ({@link CountedRemovals}), so its report is of every run, however many a crash cut off.
 */
public final class EraseVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(EraseVerticle.class);
    private static final int PAGE = 1000;

    private final TrisyncConfig config;
    private final Stores stores;
    private OperationTracker tracker;
    private long resumer = -1;

    public EraseVerticle(TrisyncConfig config, Stores stores) {
        this.config = config;
        this.stores = stores;
    }

    @Override
    public Future<?> start() {
        tracker = OperationTracker.of(vertx, config, stores, EventPublisher.of(vertx, config, stores));
        consume(IngestAddresses.ERASE, body -> erase(EraseTenant.fromJson(body)));
        consume(
                IngestAddresses.ERASURE,
                body -> status(EraseTenant.fromJson(body).tenantId()));
        vertx.setTimer(2_000, id -> resume());
        resumer = vertx.setPeriodic(config.sync().cleanupIntervalSeconds() * 1000L, id -> resume());
        return consumersReady();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(resumer);
        return super.stop();
    }

    private Future<JsonObject> status(String tenant) {
        return stores.erasures()
                .get(tenant)
                .compose(erasure -> erasure == null
                        ? Future.failedFuture(new Failure.NotFound("tenant " + tenant + " has no erasure"))
                        : Future.succeededFuture(erasure.toPublicJson()));
    }

    /** Starts the erasure (after cancelling the tenant's running operation); answers with its operation. */
    private Future<JsonObject> erase(EraseTenant request) {
        String tenant = request.tenantId();
        return stores.syncOperations().running(tenant).compose(running -> {
            if (running != null && "erase".equals(running.kind())) {
                return Future.succeededFuture(running.toPublicJson());
            }
            Future<Boolean> cancelled = running == null
                    ? Future.succeededFuture(false)
                    : tracker.cancel(running, "cancelled: the tenant is being erased", null);
            return cancelled
                    .compose(v -> stores.metadata().count(new FileQuery(tenant, null, null)))
                    .compose(files -> tracker.start(tenant, "erase", files, request.actor()))
                    .compose(op -> stores.erasures()
                            .begin(tenant, op.record().id())
                            .map(v -> {
                                // Writes that checked the mark before it was stored may still be
                                // admitted for a lease: remove only once every check sees it.
                                vertx.setTimer(TenantErasures.LEASE.toMillis(), id -> run(op, tenant));
                                return op.record().toPublicJson();
                            }));
        });
    }

    /** Erasures a dead node left unfinished: run again (every step is idempotent). */
    private void resume() {
        stores.erasures().unfinished().onSuccess(list -> {
            for (Erasure erasure : list) {
                stores.syncOperations()
                        .get(erasure.opId())
                        .recover(e -> Future.succeededFuture(null))
                        .onSuccess(op -> {
                            if (op == null || op.status() != SyncOperation.Status.RUNNING) {
                                LOG.info("Resuming the erasure of tenant {}", erasure.tenantId());
                                erase(new EraseTenant(erasure.tenantId(), Actor.SYSTEM))
                                        .onFailure(e -> LOG.warn(
                                                "Erasure of {} not resumed: {}", erasure.tenantId(), e.getMessage()));
                            }
                        });
            }
        });
    }

    private void run(TrackedOperation op, String tenant) {
        List<String> prefixes = new ArrayList<>(List.of(
                tenant + "/",
                StoreKeys.quarantinePrefix(tenant),
                StoreKeys.versionsPrefix(tenant),
                StoreKeys.stagingPrefix(tenant)));
        if (config.repair().hasBackup()) {
            prefixes.add(config.repair().backupPrefix() + tenant + "/");
        }
        stores.erasures()
                .get(tenant)
                .compose(erasure -> removeAll(op, erasure, prefixes))
                .compose(erased -> complete(op, erased))
                .onFailure(e -> {
                    LOG.warn("Erasure of tenant {} stopped: {}", tenant, e.getMessage());
                    if (!op.stopped()) {
                        op.fail("erasure stopped: " + e.getMessage());
                    }
                });
    }

    /**
     * Removes the tenant's blobs, points and records and verifies that none is left; completes with
     * the erasure as it then is (what every run of it removed).
     */
    private Future<Erasure> removeAll(TrackedOperation op, Erasure erasure, List<String> prefixes) {
        String tenant = erasure.tenantId();
        String opId = op.record().id();
        // Counted on the erasure, so the report is of every run, not only this one.
        CountedRemovals removals = new CountedRemovals(stores, erasure, opId, page());
        op.progress("removing_blobs", 0, 4, removals.blobs());
        Future<Void> chain = removals.settle(erasure.pending());
        for (String prefix : prefixes) {
            chain = chain.compose(v -> removals.removeBlobs(prefix));
        }
        return chain.compose(v -> {
                    op.progress("removing_points", 1, 4, removals.blobs());
                    return stores.vectors().deleteTenant(tenant);
                })
                .compose(v -> {
                    op.progress("removing_records", 2, 4, removals.blobs());
                    return removals.removeRecords();
                })
                .compose(v -> {
                    op.progress("verifying", 3, 4, removals.blobs());
                    return verify(tenant, opId, prefixes);
                })
                .compose(left -> {
                    if (!left.isEmpty()) {
                        return Future.failedFuture(new Failure.Conflict("erasure left " + left.encode()));
                    }
                    op.progress("finalizing", 4, 4, removals.blobs());
                    return stores.erasures().get(tenant);
                });
    }

    /** Marks the erasure done and completes its operation, with what every run of it removed. */
    private Future<Void> complete(TrackedOperation op, Erasure erased) {
        JsonObject result = erased.removed()
                .copy()
                .put(Erasure.BLOBS, erased.blobsRemoved())
                .put("verified", true);
        return stores.erasures()
                .finish(erased.tenantId(), result)
                .compose(v -> op.complete(result))
                .onSuccess(v -> LOG.info("Tenant {} erased: {}", erased.tenantId(), result.encode()));
    }

    /** Objects deleted at once: {@code SYNC_BATCH_SIZE}, at most the {@value #PAGE} one S3 request takes. */
    private int page() {
        return Math.max(1, Math.min(PAGE, config.sync().batchSize()));
    }

    /** What of the tenant is still in a store: empty when the erasure is complete. */
    private Future<JsonObject> verify(String tenant, String keepOpId, List<String> prefixes) {
        JsonObject left = new JsonObject();
        List<Future<?>> checks = new ArrayList<>();
        for (String prefix : prefixes) {
            checks.add(stores.blobs().list(prefix, null, 1, false).onSuccess(page -> {
                if (!page.items().isEmpty()) {
                    left.put("s3:" + prefix, page.items().size());
                }
            }));
        }
        // Counted, not listed: a listing leaves out points trisync did not write, which the erasure
        // removed with the tenant's all the same.
        checks.add(stores.vectors().count(tenant, null).onSuccess(points -> {
            if (points > 0) {
                left.put("qdrant", points);
            }
        }));
        checks.add(stores.erasures()
                .remaining(tenant, keepOpId)
                .onSuccess(counts -> counts.forEach(e -> {
                    if (((Number) e.getValue()).longValue() > 0) {
                        left.put("mongodb:" + e.getKey(), e.getValue());
                    }
                })));
        return Future.all(checks).map(left);
    }
}
