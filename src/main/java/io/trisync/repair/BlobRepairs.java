package io.trisync.repair;

import io.trisync.config.TrisyncConfig.RepairConfig;
import io.trisync.failure.Failure;
import io.trisync.repair.Outcomes.Outcome;
import io.trisync.repair.Outcomes.Status;
import io.trisync.scan.FileInspector.State;
import io.trisync.store.BlobInfo;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The repairs of a file's content: an orphan object quarantined, lost content restored from the
 * backup, content that disagrees with its record checked against the known versions; and a file
 * left to a person, marked so on its record.
 */
final class BlobRepairs {

    private final Stores stores;
    private final RepairConfig config;
    private final Quarantine quarantine;

    BlobRepairs(Stores stores, RepairConfig config, Quarantine quarantine) {
        this.stores = stores;
        this.config = config;
        this.quarantine = quarantine;
    }

    Future<Outcome> quarantineBlob(PlannedAction action, State state, JsonObject before, String opId) {
        if (state.blob() == null) {
            return Future.succeededFuture(
                    new Outcome(action, Status.ALREADY_RESOLVED, "the object is gone", before, null));
        }
        if (state.record() != null && state.record().status() == FileRecord.Status.ACTIVE) {
            return Outcomes.failed(action, before, "the file is active again; its object is not an orphan");
        }
        String reason = action.fixes().get(0).name();
        return quarantine
                .move(action.tenantId(), action.fileId(), state.blob(), reason, opId)
                .map(entry -> Outcomes.done(
                        action,
                        before,
                        new JsonObject()
                                .put("quarantine_id", entry.id())
                                .put("quarantine_key", entry.quarantineKey())));
    }

    Future<Outcome> restoreBlob(PlannedAction action, State state, JsonObject before, String opId) {
        FileRecord record = state.record();
        if (state.blob() != null || record == null) {
            return Outcomes.failed(action, before, "the content is present, or the record is gone");
        }
        return fromBackup(record, state.blobKey())
                .compose(restored -> restored
                        ? Future.succeededFuture(Outcomes.done(
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
    Future<Outcome> verifyContent(PlannedAction action, State state, JsonObject before, String opId) {
        FileRecord record = state.record();
        BlobInfo blob = state.blob();
        if (record == null || blob == null || record.status() != FileRecord.Status.ACTIVE) {
            return Outcomes.failed(action, before, "no active record with content to verify");
        }
        return stores.blobs().hash(state.blobKey()).compose(hashed -> {
            String sha = hashed.sha256();
            long size = hashed.size();
            if (sha.equals(record.sha256())) {
                return fixFromContent(action, state, before, sha, size);
            }
            // A file given new versions has its latest content on the record; the upload's
            // sha256 is a superseded version's, not a known good one for the record.
            Future<IngestOperation> known = record.history().isEmpty()
                    ? stores.operations().uploadOf(record.id())
                    : Future.succeededFuture(null);
            return known.compose(upload -> {
                if (upload != null && sha.equals(upload.sha256()) && size == upload.size()) {
                    return patchRecord(action, record, before, sha, size, "the upload's sha256 and size");
                }
                return fromBackupReplacing(record, state, opId)
                        .compose(restored -> restored
                                ? Future.succeededFuture(Outcomes.done(
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
        });
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
                            new JsonObject()
                                    .put(FileRecord.SIZE, record.size())
                                    .put(FileRecord.SHA256, record.sha256()),
                            new JsonObject().put(FileRecord.SIZE, size)));
            after.put("size", size);
        }
        return fixed.map(ok -> ok
                ? Outcomes.done(action, before, after)
                : new Outcome(action, Status.FAILED, "the record changed meanwhile; scan again", before, null));
    }

    private Future<Outcome> patchRecord(
            PlannedAction action, FileRecord record, JsonObject before, String sha, long size, String source) {
        return stores.metadata()
                .patch(
                        record.id(),
                        new JsonObject().put(FileRecord.SIZE, record.size()).put(FileRecord.SHA256, record.sha256()),
                        new JsonObject().put(FileRecord.SIZE, size).put(FileRecord.SHA256, sha))
                .map(ok -> ok
                        ? Outcomes.done(
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
    Future<Outcome> flag(PlannedAction action, State state, JsonObject before, String reason, String opId) {
        FileRecord record = state.record();
        if (record == null) {
            return Outcomes.failed(action, before, reason);
        }
        if (!record.verdictWritable()) {
            // Its sync document is what cannot be read: not written over; the open issue names it.
            return Future.succeededFuture(new Outcome(
                    action, Status.LEFT_TO_PERSON, reason, before, new JsonObject().put("verdict", "error")));
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
}
