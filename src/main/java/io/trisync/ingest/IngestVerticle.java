package io.trisync.ingest;

import io.trisync.bus.ClusterBus;
import io.trisync.bus.RequestVerticle;
import io.trisync.bus.Requests;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.EmbeddingPool;
import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.failure.Breaker;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.BeginReplace;
import io.trisync.ingest.IngestMessages.BeginUpload;
import io.trisync.ingest.IngestMessages.CompleteUploads;
import io.trisync.ingest.IngestMessages.Completion;
import io.trisync.ingest.IngestMessages.Completions;
import io.trisync.ingest.IngestMessages.DeleteOutcome;
import io.trisync.ingest.IngestMessages.EditFile;
import io.trisync.ingest.IngestMessages.FilePage;
import io.trisync.ingest.IngestMessages.FileRef;
import io.trisync.ingest.IngestMessages.ListFiles;
import io.trisync.ingest.IngestMessages.OperationRef;
import io.trisync.metrics.Metrics;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.Retry;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns uploads and deletes as coordinated writes across the three stores, the operation log that
 * makes them crash-safe, and the recovery of operations any node left unfinished (at start and every
 * {@code INGEST_RECOVERY_INTERVAL_SECONDS}). Serves the file reads of the HTTP API.
 */
public final class IngestVerticle extends RequestVerticle {

    /** The node's event publisher, made once at start (uploads, deletes, edits share it). */
    private EventPublisher events;

    private static final Logger LOG = LoggerFactory.getLogger(IngestVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final EmbeddingModel model;
    private final IngestHooks hooks;
    private final Breaker breaker;
    private final boolean sweeps;

    /** How often a node looks for due jobs in the index queue (files whose vectors are pending). */
    static final long INDEX_POLL_MS = 1000;

    private long indexTimer = -1;
    private long probeTimer = -1;
    private boolean probing;

    /** How often the stores the upload breaker counts as down are pinged. */
    private static final long PROBE_MS = 250;

    private WorkerExecutor embeddingPool;
    private UploadFlow uploads;
    private DeleteFlow deletes;
    private ReplaceFlow replaces;
    private Recovery recovery;
    private PromisedUploads promised;
    private long recoveryTimer = -1;
    private Runnable goneListener;

    private IngestVerticle(
            TrisyncConfig config,
            Stores stores,
            EmbeddingModel model,
            IngestHooks hooks,
            Breaker breaker,
            boolean sweeps) {
        this.config = config;
        this.stores = stores;
        this.model = model;
        this.hooks = hooks;
        this.breaker = breaker;
        this.sweeps = sweeps;
    }

    /**
     * Makes the instances of one node (deployed with {@code config.verticleInstances()}, each on its
     * own event loop, sharing the {@code trisync.ingest.*} addresses round robin): they share one
     * breaker, and only the first runs the periodic recovery sweep.
     */
    public static Supplier<IngestVerticle> instances(
            TrisyncConfig config, Stores stores, EmbeddingModel model, IngestHooks hooks) {
        Breaker breaker = new Breaker(Failure.RETRY_AFTER_SECONDS * 1000L, Clock.systemUTC());
        AtomicInteger made = new AtomicInteger();
        return () -> new IngestVerticle(config, stores, model, hooks, breaker, made.getAndIncrement() == 0);
    }

    @Override
    public Future<?> start() {
        if (model.dimension() != config.qdrant().vectorSize()) {
            return Future.failedFuture(new IllegalStateException(
                    "QDRANT_VECTOR_SIZE is " + config.qdrant().vectorSize() + " but the embedding model " + model.name()
                            + " makes " + model.dimension() + "-dimension vectors"));
        }
        Duration grace = Duration.ofSeconds(config.ingest().recoveryGraceSeconds());
        embeddingPool = EmbeddingPool.of(vertx);
        events = EventPublisher.of(vertx, config, stores);
        Steps steps = new Steps(
                vertx,
                stores,
                events,
                Retry.forWrites(vertx),
                breaker,
                hooks,
                new ContentIndexer(model),
                embeddingPool,
                config.nodeId(),
                config.sync().partitions(),
                grace,
                Metrics.of(config));
        uploads = new UploadFlow(steps);
        deletes = new DeleteFlow(steps);
        replaces = new ReplaceFlow(steps);
        promised = uploads.promised();
        recovery = new Recovery(steps, uploads, deletes, replaces, promised, grace, grace.multipliedBy(2));
        consume(IngestAddresses.BEGIN_UPLOAD, m -> uploads.begin(BeginUpload.fromJson(m))
                .map(t -> t.toJson()));
        consume(IngestAddresses.BEGIN_REPLACE, m -> replaces.begin(BeginReplace.fromJson(m))
                .map(t -> t.toJson()));
        consume(IngestAddresses.COMPLETE_UPLOAD, m -> completeUpload(OperationRef.fromJson(m)));
        consume(IngestAddresses.COMPLETE_UPLOADS, m -> completeAll(CompleteUploads.fromJson(m)));
        consume(IngestAddresses.ABORT_UPLOAD, m -> abortUpload(OperationRef.fromJson(m)));
        consume(IngestAddresses.SETTLE_UPLOAD, m -> settleUpload(OperationRef.fromJson(m)));
        consume(IngestAddresses.DELETE, m -> {
            long started = System.nanoTime();
            return deletes.delete(IngestMessages.DeleteFile.fromJson(m))
                    .andThen(done ->
                            steps.metrics.ingest("delete", done.failed() ? "error" : "ok", System.nanoTime() - started))
                    .map(DeleteOutcome::toJson);
        });
        consume(IngestAddresses.GET_FILE, m -> getFile(FileRef.fromJson(m)));
        consume(IngestAddresses.EDIT, m -> edit(EditFile.fromJson(m)));
        consume(IngestAddresses.LIST_FILES, m -> listFiles(ListFiles.fromJson(m)));
        consume(IngestAddresses.RECOVER, m -> recovery.sweep().map(n -> new JsonObject().put("ended", n)));
        if (sweeps) {
            recoveryTimer =
                    vertx.setPeriodic(1000, config.ingest().recoveryIntervalSeconds() * 1000L, id -> sweep("periodic"));
            var context = vertx.getOrCreateContext();
            goneListener = () -> context.runOnContext(v -> sweep("a cluster member left"));
            stores.incarnations().onGone(goneListener);
            IndexWorker indexer = new IndexWorker(steps);
            indexTimer = vertx.setPeriodic(INDEX_POLL_MS, id -> indexer.tick());
            probeTimer = vertx.setPeriodic(PROBE_MS, id -> probeOpenStores());
        }
        return consumersReady();
    }

    @Override
    public Future<?> stop() {
        if (recoveryTimer >= 0) {
            vertx.cancelTimer(recoveryTimer);
            vertx.cancelTimer(indexTimer);
            vertx.cancelTimer(probeTimer);
            stores.incarnations().removeGoneListener(goneListener);
        }
        return super.stop().onComplete(v -> embeddingPool.close());
    }

    /**
     * Pings each store the upload breaker counts as down (one ping at a time), closing the breaker
     * when it answers: uploads succeed again within about this period of a store's return.
     */
    private void probeOpenStores() {
        if (probing) {
            return;
        }
        Set<String> open = breaker.open();
        if (open.isEmpty()) {
            return;
        }
        probing = true;
        Future.join(open.stream()
                        .map(store -> stores.ping(store).onSuccess(v -> breaker.closed(store)))
                        .toList())
                .onComplete(v -> probing = false);
    }

    private void sweep(String why) {
        recovery.sweep().onFailure(e -> LOG.warn("Recovery sweep ({}) failed: {}", why, e.getMessage()));
    }

    private Future<JsonObject> completeUpload(OperationRef ref) {
        Future<IngestOperation> op =
                ref.operation() != null && ref.opId().equals(ref.operation().getString(IngestOperation.ID))
                        ? Future.succeededFuture(ref.operation())
                                .map(d -> IngestOperation.fromDocument(d).readable())
                        : stores.operations().get(ref.opId());
        return op.compose(o -> o.kind() == IngestOperation.Kind.REPLACE
                        ? replaces.complete(o, ref.staged())
                        : uploads.complete(o, ref.staged()))
                .onSuccess(f -> LOG.debug(
                        "Uploaded file {} ({} bytes, {} chunks) for tenant {}",
                        f.id(),
                        f.size(),
                        f.embedding() == null ? 0 : f.embedding().chunks(),
                        f.tenantId()))
                .map(FileRecord::toDocument);
    }

    /**
     * Completes a cohort: every upload starts in this turn, so each of their steps meets the others'
     * in the stores' group commits (one bulk write for their records, one upsert for their points,
     * one for their commits, one event append, one for their ends) instead of meeting by chance.
     * Replies once all have ended, with each one's outcome; one's failure is its own.
     */
    private Future<JsonObject> completeAll(CompleteUploads cohort) {
        List<Promise<JsonObject>> each = new ArrayList<>(cohort.uploads().size());
        for (OperationRef ref : cohort.uploads()) {
            Promise<JsonObject> answer = Promise.promise();
            try {
                // A failure while its promise is being recorded waits for that write: once recorded,
                // the upload is rolled forward, and its client is answered 202 as promised.
                completeUpload(ref).onComplete(answer::tryComplete, error -> promised.settled(ref.opId())
                        .onComplete(v -> answer.tryFail(error)));
            } catch (RuntimeException e) {
                answer.tryFail(e);
            }
            each.add(answer);
        }
        // A member still running near the request's timeout is answered for itself (accepted, still
        // completing: its operation ends it), so the others' outcomes reach their clients. The answer
        // is a promise, recorded on the operation first (recovery then rolls it forward); a promise
        // that could not be recorded is answered 503.
        long deadline = vertx.setTimer(config.ingest().answerWithinSeconds() * 1000L, id -> {
            for (int i = 0; i < each.size(); i++) {
                Promise<JsonObject> answer = each.get(i);
                String opId = cohort.uploads().get(i).opId();
                if (!answer.future().isComplete()) {
                    promised.promise(opId)
                            .compose(recorded -> hooks.promised(opId))
                            .onComplete(recorded -> answer.tryComplete(Receiver.completing(opId)), answer::tryFail);
                }
            }
        });
        List<Future<JsonObject>> answers = each.stream().map(Promise::future).toList();
        return Future.join(answers)
                .andThen(all -> vertx.cancelTimer(deadline))
                .transform(all -> Future.succeededFuture(new Completions(answers.stream()
                                .map(one -> one.succeeded()
                                        ? Completion.done(one.result())
                                        : Completion.failed(
                                                Requests.code(IngestAddresses.COMPLETE_UPLOADS, one.cause()),
                                                String.valueOf(one.cause().getMessage())))
                                .toList())
                        .toJson()));
    }

    private Future<JsonObject> abortUpload(OperationRef ref) {
        LOG.warn("Upload operation {} aborted by its receiving node: {}", ref.opId(), ref.reason());
        return stores.operations()
                .get(ref.opId())
                .compose(op -> op.kind() == IngestOperation.Kind.REPLACE ? replaces.abort(op) : uploads.abort(op))
                .map(v -> new JsonObject().put("aborted", ref.opId()));
    }

    /**
     * The upload's outcome once the node that was completing it is gone: recovery first (it takes
     * at once what a departed member held), then the operation says whether the file is stored.
     */
    private Future<JsonObject> settleUpload(OperationRef ref) {
        return recovery.sweep()
                .otherwiseEmpty()
                .compose(n -> stores.operations().get(ref.opId()))
                .compose(op -> switch (op.step()) {
                        // Committed: stored in the three stores (its end may still be on its way).
                    case COMMITTED, DONE -> stores.metadata().get(op.fileId()).map(FileRecord::toDocument);

                    case ABORTED -> Future.failedFuture(new Failure.Unavailable(
                            ClusterBus.DEPARTED,
                            "the node completing this upload left the cluster and the upload was undone;"
                                    + " send it again",
                            null));
                        // Answered 202 before its node left (the answer was lost with it): still a promise,
                        // rolled forward by recovery, so its client is told so, not to send it again.
                    default -> op.promised()
                            ? Future.succeededFuture(Receiver.completing(op.id()))
                            : Future.failedFuture(new Failure.Unavailable(
                                    ClusterBus.DEPARTED,
                                    "the node completing upload " + op.fileId() + " (operation " + op.id()
                                            + ") left the cluster; recovery undoes it within "
                                            + (config.ingest().recoveryGraceSeconds()
                                                    + config.ingest().recoveryIntervalSeconds())
                                            + " s; send it again (with the same Idempotency-Key, a retry"
                                            + " returns the file if it was stored after all)",
                                    null));
                });
    }

    private Future<JsonObject> getFile(FileRef ref) {
        return Steps.visible(stores, ref.fileId(), ref.tenantId())
                .compose(f -> ref.tenantId() == null || f.tenantId().equals(ref.tenantId())
                        ? Future.succeededFuture(f.readable().toDocument())
                        : Future.failedFuture(new Failure.NotFound("mongodb", "no file " + ref.fileId())))
                .recover(error -> error instanceof Failure.NotFound
                        ? Steps.whyNoFile(stores, ref.fileId(), ref.tenantId(), error)
                        : Future.failedFuture(error));
    }

    /**
     * Writes a file's new name or labels if it is still at the version the caller saw: a write that
     * finds another version fails 412 with the current one, so two edits racing never lose one
     * silently. One that names no version is one atomic update of the active record, whichever its
     * version. An edit that changes nothing writes nothing. A file an unfinished operation holds is
     * written all the same, unless that operation cannot be read (edited by hand): then 409 naming it,
     * as a delete or a new version of the file is. Publishes {@code file.updated}.
     */
    private Future<JsonObject> edit(EditFile request) {
        return Steps.visible(stores, request.fileId(), request.tenantId())
                .recover(error -> error instanceof Failure.NotFound
                        ? Steps.whyNoFile(stores, request.fileId(), request.tenantId(), error)
                        : Future.failedFuture(error))
                .compose(f -> Steps.notErasing(stores, f.tenantId()).map(f))
                .compose(f -> editable(request, f))
                .compose(f -> Steps.notHeldUnreadable(stores, f.id()).map(f))
                .compose(f -> write(request, f));
    }

    /** {@code f}, when {@code request} may edit it: its tenant's, active, at the version it names. */
    private static Future<FileRecord> editable(EditFile request, FileRecord f) {
        if (request.tenantId() != null && !f.tenantId().equals(request.tenantId())
                || f.status() != FileRecord.Status.ACTIVE && f.status() != FileRecord.Status.DELETED) {
            // As for a file the store does not hold: another tenant's is not there for this one.
            return Future.failedFuture(new Failure.NotFound("mongodb", "no file " + request.fileId()));
        }
        if (f.status() == FileRecord.Status.DELETED) {
            // Its own tenant is told what GET of its content says ("mongodb: no file" was the
            // words for an id the store never held).
            return Future.failedFuture(Steps.deleted(f.id()));
        }
        if (request.expectedVersion() != null && request.expectedVersion() != f.version()) {
            return Future.failedFuture(new Failure.StaleVersion(request.expectedVersion(), f.version()));
        }
        return Future.succeededFuture(f);
    }

    private Future<JsonObject> write(EditFile request, FileRecord f) {
        JsonObject labels = f.labels() == null ? new JsonObject() : f.labels();
        if ((request.name() == null || request.name().equals(f.name()))
                && (request.labels() == null || request.labels().equals(labels))) {
            // Nothing changes: no new version, no event.
            return Future.succeededFuture(f.toDocument());
        }
        JsonObject set = new JsonObject();
        if (request.name() != null) {
            set.put(FileRecord.NAME, request.name());
        }
        if (request.labels() != null) {
            set.put(FileRecord.LABELS, request.labels());
        }
        // Without If-Match the write is one atomic update of the active record, whatever
        // its version: it asked for no condition, so it is never refused for one.
        JsonObject expected = new JsonObject().put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire());
        if (request.expectedVersion() != null) {
            expected.put(FileRecord.VERSION, f.version());
        }
        return stores.metadata()
                .patch(f.id(), expected, set)
                .compose(won -> stores.metadata().get(f.id()).compose(now -> {
                    if (won) {
                        return updated(now, request).map(now.toDocument());
                    }
                    return request.expectedVersion() == null || now.status() != FileRecord.Status.ACTIVE
                            ? Future.failedFuture(
                                    now.status() == FileRecord.Status.DELETED
                                            ? Steps.deleted(now.id())
                                            : new Failure.NotFound("no file " + request.fileId()))
                            : Future.failedFuture(new Failure.StaleVersion(f.version(), now.version()));
                }));
    }

    private Future<Void> updated(FileRecord file, EditFile request) {
        return events.publish(
                        file.tenantId(),
                        EventTypes.FILE_UPDATED,
                        file.id(),
                        null,
                        new JsonObject()
                                .put("name", file.name())
                                .put("labels", file.labels())
                                .put("version", file.version())
                                .put("by", request.actor().subject()))
                .mapEmpty();
    }

    private Future<JsonObject> listFiles(ListFiles request) {
        // A page's files whose upload has not committed are left out (see visible), and those whose
        // record cannot be read (a scan reports them, GET names the field); the cursor stays the
        // page's own, so paging goes on past them.
        return stores.metadata()
                .listNewest(request.tenantId(), request.cursor(), request.limit())
                .compose(page -> stores.operations()
                        .uploading(page.items().stream().map(FileRecord::id).toList())
                        .map(uploading -> new FilePage(
                                        page.items().stream()
                                                .filter(f -> !uploading.contains(f.id())
                                                        && f.status() != FileRecord.Status.UNREADABLE)
                                                .toList(),
                                        page.next())
                                .toJson()));
    }
}
