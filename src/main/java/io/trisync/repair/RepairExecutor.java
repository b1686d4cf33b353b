package io.trisync.repair;

import io.trisync.concurrent.Lanes;
import io.trisync.concurrent.MemoryBudget;
import io.trisync.config.TrisyncConfig.RepairConfig;
import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher;
import io.trisync.failure.Failure;
import io.trisync.repair.Outcomes.FileOutcome;
import io.trisync.repair.Outcomes.Outcome;
import io.trisync.repair.Outcomes.Status;
import io.trisync.scan.FileInspector;
import io.trisync.scan.FileInspector.State;
import io.trisync.scan.IssueType;
import io.trisync.scan.LostRecord;
import io.trisync.store.Buffers;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.Retry;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Executes the actions planned for one file. Before each action the file is inspected again and the
 * action is taken only if an issue it fixes is still there (the world may have changed since the
 * scan); afterwards the file is inspected once more, its verdict recorded, the issues it no longer has
 * closed with {@code sync.issue_resolved}, and those it still has reported with {@code
 * sync.issue_failed}. Both inspections read and hash the content when an issue they must see gone
 * needs it (a checksum mismatch: {@link Resolution}), as the deep scan that found it did. Every
 * action is recorded in the audit trail. Running the same actions twice changes nothing the second
 * time. A store that is down fails the file (and so the operation) rather than recording a failure per
 * file.
 */
final class RepairExecutor {

    /** Chunks embedded, and points upserted, at a time when a file is re-embedded. */
    private static final int REEMBED_BATCH = 256;

    private final Stores stores;
    private final EventPublisher events;
    private final ContentIndexer indexer;
    private final WorkerExecutor embeddingPool;
    private final RepairConfig config;
    private final Quarantine quarantine;
    private final FileInspector inspector;
    private final Settlement settlement;
    private final BlobRepairs blobs;
    private final RecordRestores records;

    RepairExecutor(
            Stores stores,
            EventPublisher events,
            ContentIndexer indexer,
            WorkerExecutor embeddingPool,
            RepairConfig config,
            Quarantine quarantine) {
        this.stores = stores;
        this.events = events;
        this.indexer = indexer;
        this.embeddingPool = embeddingPool;
        this.config = config;
        this.quarantine = quarantine;
        this.inspector = new FileInspector(stores, indexer.modelName());
        this.settlement = new Settlement(stores, events);
        this.blobs = new BlobRepairs(stores, config, quarantine);
        this.records = new RecordRestores(stores, indexer, embeddingPool);
    }

    /**
     * Runs the actions of one file (all with the same tenant and file id) in order, under operation
     * {@code opId}; once {@code ended} says the operation ended (cancelled, failed elsewhere), a
     * re-embedding writes no further batch.
     */
    Future<FileOutcome> runFile(List<PlannedAction> actions, String opId, BooleanSupplier ended) {
        List<Outcome> outcomes = new ArrayList<>();
        Future<Void> chain = Lanes.inOrder(
                        Lanes.range(actions.size()), i -> runAndAudit(actions.get(i), i, opId, ended, outcomes))
                .compose(v -> vectorsOfRestored(actions, outcomes, opId, ended));
        PlannedAction first = actions.get(0);
        boolean readContent = Resolution.needsContent(
                actions.stream().flatMap(a -> a.fixes().stream()).toList());
        return chain.compose(v -> inspector.inspect(first.tenantId(), first.partition(), first.fileId(), readContent))
                .compose(after -> settlement.settle(actions, outcomes, after, opId));
    }

    /** Runs the file's {@code i}th action and records its outcome in the audit and in {@code outcomes}. */
    private Future<?> runAndAudit(
            PlannedAction action, int i, String opId, BooleanSupplier ended, List<Outcome> outcomes) {
        String auditId = opId + ":" + action.tenantId() + ":" + action.fileId() + ":" + i;
        return run(action, opId, ended)
                .compose(outcome -> ended.getAsBoolean()
                        ? stopped(action, auditId, outcome, opId)
                        : settlement.audit(auditId, outcome, opId).map(outcomes.add(outcome)));
    }

    /**
     * Once a file's lost record was restored, its vectors are judged as any file's: the points made
     * from its content by the model in use are its own, and missing, stale or extra ones are set right
     * by a re-embed, taken now as one more action of the file (audited as such). Its issues were not
     * open (the file had no record to judge them by), so they are not among those the repair settles;
     * the check after the actions records what remains on the file's verdict, and a scan opens it. A
     * restore found already resolved counts too: the record may be this restore's own, inserted by a
     * run killed before its re-embed (the next fix plans the restore again from the same issues), and
     * its missing points were otherwise left to a later scan while this fix reported the file's issues
     * resolved (RestoreKillIT).
     */
    private Future<Void> vectorsOfRestored(
            List<PlannedAction> actions, List<Outcome> outcomes, String opId, BooleanSupplier ended) {
        boolean restored = outcomes.stream()
                .anyMatch(o -> o.action().action() == RepairAction.RESTORE_RECORD
                        && (o.status() == Status.DONE || o.status() == Status.ALREADY_RESOLVED));
        if (!restored) {
            return Future.succeededFuture();
        }
        PlannedAction first = actions.get(0);
        return inspector
                .inspect(first.tenantId(), first.partition(), first.fileId(), false)
                .compose(state -> {
                    List<IssueType> vectors = state.issues().stream()
                            .filter(RepairPlanner.VECTOR_FIXES::contains)
                            .sorted()
                            .toList();
                    if (vectors.isEmpty() || state.record() == null) {
                        return Future.succeededFuture();
                    }
                    PlannedAction reembed = new PlannedAction(
                            RepairAction.REEMBED,
                            vectors,
                            first.tenantId(),
                            first.partition(),
                            first.fileId(),
                            state.record().name());
                    return runAndAudit(reembed, actions.size(), opId, ended, outcomes)
                            .mapEmpty();
                });
    }

    /**
     * The end of a file's actions once the repair was ended meanwhile: its step in flight is recorded
     * in the repair's audit (what it did or refused), unless the tenant is being or was erased (nothing
     * of it may be written after its erasure); no verdict, issue or event follows (the file was not
     * judged), and the file's work fails so the repair goes no further.
     */
    private <T> Future<T> stopped(PlannedAction action, String auditId, Outcome outcome, String opId) {
        return stores.erasures()
                .get(action.tenantId())
                .recover(error -> Future.succeededFuture(null))
                .compose(erasure -> erasure != null
                        ? Future.<Void>succeededFuture()
                        : settlement.audit(auditId, outcome, opId).<Void>mapEmpty())
                .compose(v -> Future.<T>failedFuture("repair " + opId + " was ended"));
    }

    private Future<Outcome> run(PlannedAction action, String opId, BooleanSupplier ended) {
        // A tenant being erased takes no write, a repair's no more than an upload's: its erasure
        // removes what the stores hold and verifies nothing is left (a repair it cancelled, still at
        // work until it notices, had put 500 points back after a verified erasure).
        // A file an upload, new version or delete is writing now is that operation's: what the stores
        // hold is in motion, and its own roll-forward or undo ends it (a repair in between could put
        // old bytes back under a record about to name the new ones).
        return stores.erasures()
                .admitting(action.tenantId())
                .compose(v -> stores.operations().openFor(action.fileId()))
                .compose(open -> open != null
                        ? Future.succeededFuture(new Outcome(
                                action,
                                Status.FAILED,
                                "an ingest operation (" + open.describe()
                                        + ") is writing the file; scan again once it has ended",
                                null,
                                null))
                        : inspectAndAct(action, opId, ended));
    }

    private Future<Outcome> inspectAndAct(PlannedAction action, String opId, BooleanSupplier ended) {
        return inspector
                .inspect(
                        action.tenantId(), action.partition(), action.fileId(), Resolution.needsContent(action.fixes()))
                .compose(state -> {
                    if (!Resolution.stillNeeded(action.fixes(), state.issues(), state::sees)) {
                        return Future.succeededFuture(new Outcome(
                                action,
                                Status.ALREADY_RESOLVED,
                                "not present any more",
                                Outcomes.describe(state),
                                null));
                    }
                    return act(action, state, opId, ended);
                })
                .recover(error -> error instanceof Failure.Unavailable
                        ? Future.failedFuture(error)
                        : Future.succeededFuture(
                                new Outcome(action, Status.FAILED, String.valueOf(error.getMessage()), null, null)));
    }

    private Future<Outcome> act(PlannedAction action, State state, String opId, BooleanSupplier ended) {
        JsonObject before = Outcomes.describe(state);
        return switch (action.action()) {
            case REEMBED -> reembed(action, state, before, ended);
            case DELETE_POINTS -> deletePoints(action, state, before);
            case DELETE_EXTRA_POINTS -> deleteExtraPoints(action, state, before);
            case QUARANTINE_BLOB -> restorable(action, state)
                    .compose(lost -> lost != null
                            // An issue opened before restores were planned carries no word of it.
                            ? Outcomes.failed(
                                    action,
                                    before,
                                    "the file's record can be rebuilt from its upload (operation " + lost.operation()
                                            + "); its object is kept: scan, then fix, to restore it")
                            : blobs.quarantineBlob(action, state, before, opId));
            case RESTORE_BLOB -> blobs.restoreBlob(action, state, before, opId);
            case VERIFY_CONTENT -> blobs.verifyContent(action, state, before, opId);
            case FLAG_FOR_PERSON -> blobs.flag(action, state, before, forPerson(action, state), opId);
            case RESTORE_RECORD -> records.restore(action, state, before, ended);
        };
    }

    /** Why a file is left to a person, from the issues the flag is for. */
    private static String forPerson(PlannedAction action, State state) {
        List<String> reasons = new ArrayList<>();
        if (action.fixes().contains(IssueType.MISSING_BLOB)) {
            reasons.add("content lost; re-upload or delete (no backup configured)");
        }
        if (action.fixes().contains(IssueType.UNREADABLE_RECORD)) {
            FileRecord record = state.record();
            reasons.add("its record cannot be read (its field "
                    + (record == null || record.unreadable() == null ? "status" : record.unreadable())
                    + " holds a value this service never writes); correct it in MongoDB");
        }
        if (action.fixes().contains(IssueType.EMBEDDING_FAILED)) {
            FileRecord record = state.record();
            String failure = record == null || record.embedding() == null
                    ? null
                    : record.embedding().failure();
            reasons.add("text extraction failed" + (failure == null ? "" : " (" + failure + ")")
                    + "; re-upload a readable version, or accept it without search");
        }
        return String.join("; ", reasons);
    }

    private Future<Outcome> reembed(PlannedAction action, State state, JsonObject before, BooleanSupplier ended) {
        FileRecord record = state.record();
        if (record == null || record.status() != FileRecord.Status.ACTIVE || state.blob() == null) {
            return Outcomes.failed(action, before, "no active record with content to embed");
        }
        return MemoryBudget.HEAP.holding(state.blob().size(), () -> reembed(action, state, before, record, ended));
    }

    private Future<Outcome> reembed(
            PlannedAction action, State state, JsonObject before, FileRecord record, BooleanSupplier ended) {
        return stores.blobs().read(state.blobKey()).compose(content -> hash(content.bytes())
                .compose(sha -> {
                    if (!sha.equals(record.sha256())) {
                        return Outcomes.failed(
                                action,
                                before,
                                "the content's sha256 " + sha + " differs from the recorded " + record.sha256()
                                        + "; resolve the checksum first");
                    }
                    ContentIndexer.Target target = new ContentIndexer.Target(
                            record.tenantId(),
                            record.id(),
                            record.partition(),
                            sha,
                            record.contentType(),
                            record.name());
                    // Upserted a batch at a time as they are made: a large file's points are never all held.
                    // Each batch tried again while Qdrant fails retriably, as an upload's batches are.
                    Retry retry = Retry.forWrites(Vertx.currentContext().owner());
                    ContentIndexer.PointSink upsert = ContentIndexer.PointSink.on(
                            Vertx.currentContext(),
                            batch -> ended.getAsBoolean()
                                    ? Future.failedFuture(new Failure.Conflict("the repair was ended"))
                                    : stores.erasures()
                                            .admitting(record.tenantId())
                                            .compose(v -> stillNames(record, sha))
                                            .compose(v -> retry.run(
                                                    () -> stores.vectors().upsert(batch))));
                    return embeddingPool
                            .executeBlocking(
                                    () -> indexer.stream(Buffers.view(content.bytes()), target, REEMBED_BATCH, upsert))
                            // A batch refused (the repair ended, the tenant being erased, the record
                            // changed): the batches written before it go if the record no longer
                            // names this content.
                            .recover(error -> withdraw(record, sha).transform(w -> Future.failedFuture(error)))
                            .compose(streamed -> streamed.failed()
                                    ? Outcomes.failed(
                                            action,
                                            before,
                                            "text extraction failed: " + streamed.failure()
                                                    + (streamed.written() == 0
                                                            ? "; nothing was re-embedded"
                                                            : "; its first " + streamed.written()
                                                                    + " points were re-embedded"))
                                    : removeStale(state, streamed.chunks())
                                            .compose(v ->
                                                    recordEmbedding(action, record, before, streamed.chunks(), sha)));
                }));
    }

    /** Records the new embedding on the record, if it still holds the content that was embedded. */
    private Future<Outcome> recordEmbedding(
            PlannedAction action, FileRecord record, JsonObject before, int chunks, String sha) {
        return stores.metadata()
                .patch(
                        record.id(),
                        new JsonObject()
                                .put(FileRecord.SHA256, record.sha256())
                                .put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire()),
                        FileRecord.Embedding.indexedFields(indexer.modelName(), indexer.dimension(), chunks, sha))
                .compose(matched -> matched
                        ? Future.succeededFuture(Outcomes.done(
                                action,
                                before,
                                new JsonObject().put("chunks", chunks).put("model", indexer.modelName())))
                        : withdraw(record, sha)
                                .map(new Outcome(
                                        action,
                                        Status.FAILED,
                                        "the record changed while re-embedding (deleted, or a new version); the points"
                                                + " made were withdrawn; scan again",
                                        before,
                                        null)));
    }

    /**
     * Removes the points a re-embedding of {@code sha} upserted for {@code record}'s file after the
     * record stopped naming that content: a delete answered meanwhile removed the file's points before
     * these landed, and a new version's are of other content. Unless the record, read again, is active
     * with that content after all (a new version of the same bytes).
     */
    private Future<Void> withdraw(FileRecord record, String sha) {
        // An upload, new version or delete writing the file now writes its points too: left to it,
        // and what remains to a scan, rather than removing points it may have just written.
        return stores.operations()
                .openFor(record.id())
                .compose(open -> open != null ? Future.succeededFuture(true) : stillActiveWith(record, sha))
                .compose(keep -> keep
                        ? Future.<Void>succeededFuture()
                        : stores.vectors().deleteContent(record.tenantId(), record.id(), sha));
    }

    private Future<Boolean> stillActiveWith(FileRecord record, String sha) {
        return stores.metadata()
                .get(record.id())
                .map(now -> now.status() == FileRecord.Status.ACTIVE && sha.equals(now.sha256()))
                .recover(error ->
                        error instanceof Failure.NotFound ? Future.succeededFuture(false) : Future.failedFuture(error));
    }

    /**
     * Fails once {@code record}'s file is no longer active with content {@code sha} (deleted, or a new
     * version): a batch more would overwrite the points the new version's chunks share ids with.
     */
    private Future<Void> stillNames(FileRecord record, String sha) {
        return stillActiveWith(record, sha)
                .compose(same -> same
                        ? Future.<Void>succeededFuture()
                        : Future.failedFuture(new Failure.Conflict(
                                "the record changed while re-embedding (deleted, or a new version); the points made are"
                                        + " withdrawn")));
    }

    /** Deletes the file's points that are not one of its new {@code chunks} (each upserted under its derived id). */
    private Future<Void> removeStale(State state, int chunks) {
        // Each deleted from the collection of its own copy (while the model changes both
        // collections hold a copy under the same ids), never by id alone.
        List<ChunkPoint> stale = state.points().stream()
                .filter(p -> p.chunk() < 0
                        || p.chunk() >= chunks
                        || !p.id().equals(StoreKeys.chunkPointId(p.fileId(), p.chunk())))
                .toList();
        return stores.vectors().deletePoints(stale);
    }

    private Future<Outcome> deletePoints(PlannedAction action, State state, JsonObject before) {
        if (state.record() != null && state.record().status() == FileRecord.Status.ACTIVE) {
            return Outcomes.failed(action, before, "the file is active again; its points are not orphans");
        }
        return restorable(action, state)
                .compose(lost -> lost != null
                        ? Outcomes.failed(
                                action,
                                before,
                                "the file's record can be rebuilt from its upload (operation " + lost.operation()
                                        + "); its points are kept: scan, then fix, to restore it")
                        : stores.vectors()
                                .deleteFile(action.tenantId(), action.fileId())
                                .map(v -> Outcomes.done(action, before, new JsonObject().put("points", 0))));
    }

    /**
     * Of a file without a record whose object remains, whether its record can be rebuilt from its
     * upload (else null): its points are then its own, never deleted as orphans, whatever planned it
     * (a fix narrowed to {@code ORPHAN_VECTORS}, or one planned from a search's finding alone).
     */
    private Future<LostRecord> restorable(PlannedAction action, State state) {
        if (state.record() != null || state.blob() == null) {
            return Future.succeededFuture();
        }
        return stores.operations()
                .ofFile(action.fileId())
                .map(ops -> LostRecord.judge(
                        action.tenantId(),
                        action.fileId(),
                        ops,
                        state.blob().size(),
                        state.blob().sha256()))
                .map(lost -> lost.restorable() ? lost : null);
    }

    private Future<Outcome> deleteExtraPoints(PlannedAction action, State state, JsonObject before) {
        FileRecord record = state.record();
        int chunks = record == null || record.embedding() == null
                ? 0
                : record.embedding().chunks();
        // Each from the collection of its copy: while the model changes a delete by id alone would
        // also remove the other collection's copy of the same chunk.
        List<ChunkPoint> extra = state.points().stream()
                .filter(p -> p.chunk() < 0 || p.chunk() >= chunks)
                .toList();
        return stores.vectors()
                .deletePoints(extra)
                .map(v -> Outcomes.done(action, before, new JsonObject().put("deleted_points", extra.size())));
    }

    /** The sha256 of {@code bytes}, hashed on a worker (never on the event loop: blobs may be large). */
    private Future<String> hash(Buffer bytes) {
        return embeddingPool.executeBlocking(() -> Buffers.sha256Hex(bytes), false);
    }
}
