package io.trisync.ingest;

import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.EraseTenant;
import io.trisync.ops.OperationTracker;
import io.trisync.ops.TrackedOperation;
import io.trisync.store.Actor;
import io.trisync.store.BlobInfo;
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
 * operation) and run again from the start.
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
                    : stores.syncOperations()
                            .finish(
                                    running,
                                    SyncOperation.Status.CANCELLED,
                                    "cancelled: the tenant is being erased",
                                    null);
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
        JsonObject result = new JsonObject();
        long[] blobs = {0};
        op.progress("removing_blobs", 0, 4, 0);
        Future<Void> chain = Future.succeededFuture();
        for (String prefix : prefixes) {
            chain = chain.compose(v -> removeBlobs(prefix, blobs));
        }
        chain.compose(v -> {
                    result.put("blobs", blobs[0]);
                    op.progress("removing_points", 1, 4, blobs[0]);
                    return stores.vectors().deleteTenant(tenant);
                })
                .compose(v -> {
                    op.progress("removing_records", 2, 4, blobs[0]);
                    return stores.erasures().removeRecords(tenant, op.record().id());
                })
                .compose(records -> {
                    result.put("records", records);
                    op.progress("verifying", 3, 4, blobs[0]);
                    return verify(tenant, op.record().id(), prefixes);
                })
                .compose(left -> {
                    if (!left.isEmpty()) {
                        return Future.failedFuture(new Failure.Conflict("erasure left " + left.encode()));
                    }
                    result.put("verified", true);
                    op.progress("finalizing", 4, 4, blobs[0]);
                    return stores.erasures().finish(tenant, result);
                })
                .compose(v -> op.complete(result))
                .onSuccess(v -> LOG.info("Tenant {} erased: {}", tenant, result.encode()))
                .onFailure(e -> {
                    LOG.warn("Erasure of tenant {} stopped: {}", tenant, e.getMessage());
                    if (!op.stopped()) {
                        op.fail("erasure stopped: " + e.getMessage());
                    }
                });
    }

    /** Deletes every object under {@code prefix}, a page at a time, until none is listed. */
    private Future<Void> removeBlobs(String prefix, long[] removed) {
        return stores.blobs().list(prefix, null, PAGE, false).compose(page -> {
            if (page.items().isEmpty()) {
                return Future.succeededFuture();
            }
            List<String> keys = page.items().stream().map(BlobInfo::key).toList();
            return stores.blobs().deleteAll(keys).compose(done -> {
                if (!done.failed().isEmpty()) {
                    return Future.failedFuture(
                            new Failure.Unavailable("s3", "objects not deleted: " + done.failed(), null));
                }
                removed[0] += done.deleted().size();
                return removeBlobs(prefix, removed);
            });
        });
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
        checks.add(stores.vectors().scroll(tenant, null, null, 1).onSuccess(page -> {
            if (!page.items().isEmpty()) {
                left.put("qdrant", page.items().size());
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
