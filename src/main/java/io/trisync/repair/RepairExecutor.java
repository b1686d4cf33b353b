package io.trisync.repair;

import io.trisync.concurrent.Lanes;
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
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Executes the actions planned for one file. Before each action the file is inspected again and the
 * action is taken only if an issue it fixes is still there (the world may have changed since the
 * scan); afterwards the file is inspected once more, its verdict recorded, the issues it no longer has
 * closed with {@code sync.issue_resolved}, and those it still has reported with {@code
 * sync.issue_failed}. Every action is recorded in the audit trail. Running the same actions twice
 * changes nothing the second time. A store that is down fails the file (and so the operation) rather
 * than recording a failure per file.
 */
final class RepairExecutor {

    private final Stores stores;
    private final EventPublisher events;
    private final ContentIndexer indexer;
    private final WorkerExecutor embeddingPool;
    private final RepairConfig config;
    private final Quarantine quarantine;
    private final FileInspector inspector;
    private final Settlement settlement;

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
    }

    /** Runs the actions of one file (all with the same tenant and file id) in order, under operation {@code opId}. */
    Future<FileOutcome> runFile(List<PlannedAction> actions, String opId) {
        List<Outcome> outcomes = new ArrayList<>();
        Future<Void> chain = Lanes.inOrder(Lanes.range(actions.size()), i -> {
            PlannedAction action = actions.get(i);
            String auditId = opId + ":" + action.tenantId() + ":" + action.fileId() + ":" + i;
            return run(action, opId)
                    .compose(outcome -> settlement.audit(auditId, outcome, opId).map(outcomes.add(outcome)));
        });
        PlannedAction first = actions.get(0);
        return chain.compose(v -> inspector.inspect(first.tenantId(), first.partition(), first.fileId()))
                .compose(after -> settlement.settle(actions, outcomes, after, opId));
    }

    private Future<Outcome> run(PlannedAction action, String opId) {
        // A file an upload, new version or delete is writing now is that operation's: what the stores
        // hold is in motion, and its own roll-forward or undo ends it (a repair in between could put
        // old bytes back under a record about to name the new ones).
        return stores.operations()
                .openFor(action.fileId())
                .compose(open -> open != null
                        ? Future.succeededFuture(new Outcome(
                                action,
                                Status.FAILED,
                                "an ingest operation (" + open.kind().name().toLowerCase(java.util.Locale.ROOT) + " "
                                        + open.id() + ") is writing the file; scan again once it has ended",
                                null,
                                null))
                        : inspectAndAct(action, opId));
    }

    private Future<Outcome> inspectAndAct(PlannedAction action, String opId) {
        return inspector
                .inspect(action.tenantId(), action.partition(), action.fileId())
                .compose(state -> {
                    Set<IssueType> present = state.issues();
                    if (action.fixes().stream().noneMatch(present::contains)) {
                        return Future.succeededFuture(new Outcome(
                                action,
                                Status.ALREADY_RESOLVED,
                                "not present any more",
                                Outcomes.describe(state),
                                null));
                    }
                    return act(action, state, opId);
                })
                .recover(error -> error instanceof Failure.Unavailable
                        ? Future.failedFuture(error)
                        : Future.succeededFuture(
                                new Outcome(action, Status.FAILED, String.valueOf(error.getMessage()), null, null)));
    }

    private Future<Outcome> act(PlannedAction action, State state, String opId) {
        JsonObject before = Outcomes.describe(state);
        return switch (action.action()) {
            case REEMBED -> reembed(action, state, before);
            case DELETE_POINTS -> deletePoints(action, state, before);
            case DELETE_EXTRA_POINTS -> deleteExtraPoints(action, state, before);
            case QUARANTINE_BLOB -> quarantineBlob(action, state, before, opId);
            case RESTORE_BLOB -> restoreBlob(action, state, before, opId);
            case VERIFY_CONTENT -> verifyContent(action, state, before, opId);
            case FLAG_FOR_PERSON -> flag(action, state, before, forPerson(action, state), opId);
        };
    }

    /** Why a file is left to a person, from the issues the flag is for. */
    private static String forPerson(PlannedAction action, State state) {
        List<String> reasons = new ArrayList<>();
        if (action.fixes().contains(IssueType.MISSING_BLOB)) {
            reasons.add("content lost; re-upload or delete (no backup configured)");
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

    private Future<Outcome> reembed(PlannedAction action, State state, JsonObject before) {
        FileRecord record = state.record();
        if (record == null || record.status() != FileRecord.Status.ACTIVE || state.blob() == null) {
            return failed(action, before, "no active record with content to embed");
        }
        return stores.blobs().read(state.blobKey()).compose(content -> hash(content.bytes())
                .compose(sha -> {
                    if (!sha.equals(record.sha256())) {
                        return failed(
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
                    return embeddingPool
                            .executeBlocking(() -> indexer.index(content.bytes().getBytes(), target))
                            .compose(indexed -> indexed.failed()
                                    ? failed(
                                            action,
                                            before,
                                            "text extraction failed: " + indexed.failure()
                                                    + "; nothing was re-embedded")
                                    : writePoints(state, indexed.points())
                                            .compose(points -> recordEmbedding(action, record, before, points, sha)));
                }));
    }

    /** Records the new embedding on the record, if it still holds the content that was embedded. */
    private Future<Outcome> recordEmbedding(
            PlannedAction action, FileRecord record, JsonObject before, List<ChunkPoint> points, String sha) {
        return stores.metadata()
                .patch(
                        record.id(),
                        new JsonObject().put("sha256", record.sha256()).put("status", "active"),
                        FileRecord.Embedding.indexedFields(
                                indexer.modelName(), indexer.dimension(), points.size(), sha))
                .map(matched -> matched
                        ? done(
                                action,
                                before,
                                new JsonObject().put("chunks", points.size()).put("model", indexer.modelName()))
                        : new Outcome(
                                action,
                                Status.FAILED,
                                "the record changed while re-embedding; scan again",
                                before,
                                null));
    }

    /** Upserts the new points, then deletes the file's points that are not among them. */
    private Future<List<ChunkPoint>> writePoints(State state, List<ChunkPoint> points) {
        Set<UUID> kept = new java.util.HashSet<>();
        points.forEach(p -> kept.add(p.id()));
        // Each deleted from the collection of its own copy (while the dimension changes both
        // collections hold a copy under the same ids), never by id alone.
        List<ChunkPoint> stale =
                state.points().stream().filter(p -> !kept.contains(p.id())).toList();
        Future<Void> upsert =
                points.isEmpty() ? Future.succeededFuture() : stores.vectors().upsert(points);
        return upsert.compose(v -> stores.vectors().deletePoints(stale)).map(points);
    }

    private Future<Outcome> deletePoints(PlannedAction action, State state, JsonObject before) {
        if (state.record() != null && state.record().status() == FileRecord.Status.ACTIVE) {
            return failed(action, before, "the file is active again; its points are not orphans");
        }
        return stores.vectors()
                .deleteFile(action.tenantId(), action.fileId())
                .map(v -> done(action, before, new JsonObject().put("points", 0)));
    }

    private Future<Outcome> deleteExtraPoints(PlannedAction action, State state, JsonObject before) {
        FileRecord record = state.record();
        int chunks = record == null || record.embedding() == null
                ? 0
                : record.embedding().chunks();
        // Each from the collection of its copy: while the dimension changes a delete by id alone would
        // also remove the other collection's copy of the same chunk.
        List<ChunkPoint> extra = state.points().stream()
                .filter(p -> p.chunk() < 0 || p.chunk() >= chunks)
                .toList();
        return stores.vectors()
                .deletePoints(extra)
                .map(v -> done(action, before, new JsonObject().put("deleted_points", extra.size())));
    }

    private Future<Outcome> quarantineBlob(PlannedAction action, State state, JsonObject before, String opId) {
        if (state.blob() == null) {
            return Future.succeededFuture(
                    new Outcome(action, Status.ALREADY_RESOLVED, "the object is gone", before, null));
        }
        if (state.record() != null && state.record().status() == FileRecord.Status.ACTIVE) {
            return failed(action, before, "the file is active again; its object is not an orphan");
        }
        String reason = action.fixes().get(0).name();
        return quarantine
                .move(action.tenantId(), action.fileId(), state.blob(), reason, opId)
                .map(entry -> done(
                        action,
                        before,
                        new JsonObject()
                                .put("quarantine_id", entry.getString("_id"))
                                .put("quarantine_key", entry.getString("quarantineKey"))));
    }

    private Future<Outcome> restoreBlob(PlannedAction action, State state, JsonObject before, String opId) {
        FileRecord record = state.record();
        if (state.blob() != null || record == null) {
            return failed(action, before, "the content is present, or the record is gone");
        }
        return fromBackup(record, state.blobKey())
                .compose(restored -> restored
                        ? Future.succeededFuture(done(
                                action,
                                before,
                                new JsonObject().put("restored_from", config.backupPrefix() + state.blobKey())))
                        : flag(
                                action,
                                state,
                                before,
                                "content lost; no matching copy in the backup; re-upload or delete",
                                opId));
    }

    /** Copies the backup of {@code key} back when its size and sha256 match the record; completes with whether it did. */
    private Future<Boolean> fromBackup(FileRecord record, String key) {
        if (!config.hasBackup()) {
            return Future.succeededFuture(false);
        }
        String backup = config.backupPrefix() + key;
        return stores.blobs()
                .head(backup)
                .compose(info -> info.size() == record.size() && record.sha256().equals(info.sha256())
                        ? stores.blobs().copy(backup, key).map(true)
                        : Future.succeededFuture(false))
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(false) : Future.failedFuture(e));
    }

    /**
     * Hashes the content and compares it with the known versions: the record's and the committed
     * upload's (as the receiving node computed it). Content matching the record: the size in the
     * record or the object's sha256 metadata is what is wrong, and is fixed. Content matching the
     * upload but not the record: the record is fixed. Otherwise a backup matching the record is put
     * in place (the current object quarantined first), or the file is left to a person.
     */
    private Future<Outcome> verifyContent(PlannedAction action, State state, JsonObject before, String opId) {
        FileRecord record = state.record();
        BlobInfo blob = state.blob();
        if (record == null || blob == null || record.status() != FileRecord.Status.ACTIVE) {
            return failed(action, before, "no active record with content to verify");
        }
        return stores.blobs().read(state.blobKey()).compose(content -> hash(content.bytes())
                .compose(sha -> {
                    long size = content.bytes().length();
                    if (sha.equals(record.sha256())) {
                        return fixFromContent(action, state, before, sha, size);
                    }
                    // A file given new versions has its latest content on the record; the upload's
                    // sha256 is a superseded version's, not a known good one for the record.
                    Future<io.trisync.store.IngestOperation> known =
                            record.history().isEmpty()
                                    ? stores.operations().uploadOf(record.id())
                                    : Future.succeededFuture(null);
                    return known.compose(upload -> {
                        if (upload != null && sha.equals(upload.sha256()) && size == upload.size()) {
                            return patchRecord(action, record, before, sha, size, "the upload's sha256 and size");
                        }
                        return fromBackupReplacing(record, state, opId)
                                .compose(restored -> restored
                                        ? Future.succeededFuture(done(
                                                action,
                                                before,
                                                new JsonObject()
                                                        .put("restored_from", config.backupPrefix() + state.blobKey())
                                                        .put("previous_content", "quarantined")))
                                        : flag(
                                                action,
                                                state,
                                                before,
                                                "content (sha256 " + sha + ", " + size
                                                        + " bytes) matches no known version; "
                                                        + "restore the content or re-upload",
                                                opId));
                    });
                }));
    }

    private Future<Outcome> fixFromContent(
            PlannedAction action, State state, JsonObject before, String sha, long size) {
        FileRecord record = state.record();
        Future<Boolean> fixed = Future.succeededFuture(true);
        JsonObject after = new JsonObject();
        if (!sha.equals(state.blob().sha256())) {
            Map<String, String> metadata = new HashMap<>(state.blob().metadata());
            metadata.put("sha256", sha);
            String type = state.blob().contentType() == null
                    ? record.contentType()
                    : state.blob().contentType();
            fixed = stores.blobs()
                    .copy(state.blobKey(), state.blobKey(), type, metadata)
                    .map(true);
            after.put("object_sha256", sha);
        }
        if (size != record.size()) {
            fixed = fixed.compose(ok -> stores.metadata()
                    .patch(
                            record.id(),
                            new JsonObject().put("size", record.size()).put("sha256", record.sha256()),
                            new JsonObject().put("size", size)));
            after.put("size", size);
        }
        return fixed.map(ok -> ok
                ? done(action, before, after)
                : new Outcome(action, Status.FAILED, "the record changed meanwhile; scan again", before, null));
    }

    private Future<Outcome> patchRecord(
            PlannedAction action, FileRecord record, JsonObject before, String sha, long size, String source) {
        return stores.metadata()
                .patch(
                        record.id(),
                        new JsonObject().put("size", record.size()).put("sha256", record.sha256()),
                        new JsonObject().put("size", size).put("sha256", sha))
                .map(ok -> ok
                        ? done(
                                action,
                                before,
                                new JsonObject()
                                        .put("size", size)
                                        .put("sha256", sha)
                                        .put("from", source))
                        : new Outcome(action, Status.FAILED, "the record changed meanwhile; scan again", before, null));
    }

    /** Quarantines the current object and restores the backup when the backup matches the record. */
    private Future<Boolean> fromBackupReplacing(FileRecord record, State state, String opId) {
        if (!config.hasBackup()) {
            return Future.succeededFuture(false);
        }
        String backup = config.backupPrefix() + state.blobKey();
        return stores.blobs()
                .head(backup)
                .compose(info -> {
                    if (info.size() != record.size() || !record.sha256().equals(info.sha256())) {
                        return Future.succeededFuture(false);
                    }
                    return quarantine
                            .move(record.tenantId(), record.id(), state.blob(), "REPLACED_BY_BACKUP", opId)
                            .compose(entry -> stores.blobs().copy(backup, state.blobKey()))
                            .map(true);
                })
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(false) : Future.failedFuture(e));
    }

    /** Marks the file error with the reason, for a person; the rest of its metadata is not touched. */
    private Future<Outcome> flag(PlannedAction action, State state, JsonObject before, String reason, String opId) {
        FileRecord record = state.record();
        if (record == null) {
            return failed(action, before, reason);
        }
        SyncVerdict.Attention attention = new SyncVerdict.Attention(
                reason,
                action.fixes().stream().map(Enum::name).toList(),
                Instant.now().toString(),
                opId);
        return stores.metadata()
                .recordVerdicts(Map.of(record.id(), SyncVerdict.Change.leftToPerson(attention)))
                .map(v -> new Outcome(
                        action, Status.LEFT_TO_PERSON, reason, before, new JsonObject().put("verdict", "error")));
    }

    private static Outcome done(PlannedAction action, JsonObject before, JsonObject after) {
        return new Outcome(action, Status.DONE, null, before, after);
    }

    private static Future<Outcome> failed(PlannedAction action, JsonObject before, String reason) {
        return Future.succeededFuture(new Outcome(action, Status.FAILED, reason, before, null));
    }

    /** The sha256 of {@code bytes}, hashed on a worker (never on the event loop: blobs may be large). */
    private Future<String> hash(Buffer bytes) {
        return embeddingPool.executeBlocking(() -> StoreKeys.sha256Hex(bytes.getBytes()), false);
    }
}
