package io.trisync.ingest;

import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.ingest.IngestMessages.BeginReplace;
import io.trisync.ingest.IngestMessages.UploadTicket;
import io.trisync.store.ChunkPoint;
import io.trisync.store.ContentVersion;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new version of a file's content as a coordinated write. {@link #begin} records the operation;
 * the receiving node writes the new bytes to a staging key outside the tenant's prefix; {@link
 * #complete} checks them, makes their vectors (nothing is written yet), copies the current content to
 * the file's retention path and commits. Until the commit the file is wholly the old version and an
 * interrupted replacement is undone ({@link #undo}: staging and retained copy removed). From the
 * commit on it is rolled forward ({@link #rollForward}), now or by recovery, every step idempotent and
 * guarded by what the record says: the new bytes copied over the file's key, the points replaced,
 * then the record moved to the new sha256, size, version and history in one conditional write; then
 * the staged copy is removed and {@code file.updated} with the embedding event published. So after
 * any crash the file is wholly the old version or wholly the new one.
 */
final class ReplaceFlow {

    private static final Logger LOG = LoggerFactory.getLogger(ReplaceFlow.class);

    /** Previous versions whose bytes are kept; older ones stay listed in the history without content. */
    static final int RETAINED_VERSIONS = 10;

    /** At most this many versions are listed in a file's history. */
    static final int LISTED_VERSIONS = 100;

    private final Steps steps;

    ReplaceFlow(Steps steps) {
        this.steps = steps;
    }

    /**
     * Records the replacement of a file of the tenant at {@code expectedVersion} (when given), or
     * answers with the file as it is when it already holds these bytes (nothing to do).
     */
    Future<UploadTicket> begin(BeginReplace request) {
        return Steps.notErasing(steps.stores, request.tenantId())
                .compose(v -> steps.admit())
                .compose(v -> steps.stores.metadata().get(request.fileId()))
                .recover(error -> error instanceof Failure.NotFound ? notFound(request) : Future.failedFuture(error))
                .compose(file -> {
                    if (!file.tenantId().equals(request.tenantId()) || file.status() != FileRecord.Status.ACTIVE) {
                        return notFound(request);
                    }
                    if (request.expectedVersion() != null && request.expectedVersion() != file.version()) {
                        return Future.failedFuture(new Failure.StaleVersion(request.expectedVersion(), file.version()));
                    }
                    if (file.sha256().equals(request.sha256())) {
                        return Future.succeededFuture(new UploadTicket(null, file.id(), null, file.toDocument(), null));
                    }
                    return record(request, file);
                });
    }

    private Future<UploadTicket> record(BeginReplace request, FileRecord file) {
        IngestOperation begun = IngestOperation.begin(
                FileIds.next(),
                Kind.REPLACE,
                file.tenantId(),
                file.id(),
                file.partition(),
                file.name(),
                request.contentType(),
                request.size(),
                request.sha256(),
                null,
                steps.nodeId,
                request.incarnation() != null
                        ? request.incarnation()
                        : steps.stores.incarnations().id(),
                request.actor());
        IngestOperation op =
                begun.withLease(Steps.uploadHolder(begun), Instant.now().plus(steps.grace));
        return steps.stores
                .operations()
                .begin(op)
                .recover(error -> error instanceof Failure.Conflict
                        ? Future.failedFuture(new Failure.Conflict("file " + file.id()
                                + " is being uploaded, updated or deleted by another request; try again"))
                        : Future.failedFuture(error))
                .compose(v -> steps.hooks.after(op, Step.BEGUN))
                .map(v -> new UploadTicket(op.id(), file.id(), op.writeKey(), null, op.toDocument()));
    }

    /** The new content's points, or (null) none yet: the embedding service is down, they are queued. */
    private record Made(ContentIndexer.Indexed indexed) {
        boolean pending() {
            return indexed == null;
        }
    }

    /** Checks the staged bytes, makes their vectors, retains the current content, commits, rolls forward. */
    Future<FileRecord> complete(IngestOperation op) {
        if (op.step() == Step.DONE) {
            return steps.stores.metadata().get(op.fileId());
        }
        if (op.step() != Step.BEGUN) {
            return Future.failedFuture(new Failure.Conflict("operation " + op.id() + " is at step " + op.step()));
        }
        long lease = steps.holdLease(op);
        return steps.stores
                .metadata()
                .get(op.fileId())
                .compose(file -> steps.retry
                        .run(() -> steps.stores.blobs().read(op.writeKey()))
                        .compose(staged -> UploadFlow.verify(op, staged.info())
                                .compose(v -> make(op, staged.bytes()))
                                .compose(made -> steps.pass(op, Step.BLOB_WRITTEN, () -> retain(op, file))
                                        .compose(at -> steps.takeHeld(at, Step.COMMITTED))
                                        .compose(at -> forward(at, file, made)))))
                .onComplete(done -> steps.vertx.cancelTimer(lease))
                .recover(error -> afterFailure(op, error));
    }

    /**
     * A replacement that failed: undone when it had not committed (the file stays the old version),
     * else finished later, as the stores allow; the client is told to check back.
     */
    private Future<FileRecord> afterFailure(IngestOperation op, Throwable error) {
        if (error instanceof Steps.LeaseLost) {
            // Recovery took it before the commit and undoes it; a copy this node made after that undo
            // ran is removed here.
            removeCopies(op)
                    .onFailure(e -> LOG.warn(
                            "Copies of replacement {} (file {}) not removed: {}",
                            op.id(),
                            op.fileId(),
                            e.getMessage()));
            return Future.failedFuture(error);
        }
        return steps.stores.operations().get(op.id()).transform(read -> {
            IngestOperation now = read.succeeded() ? read.result() : op;
            if (now.step() == Step.COMMITTED) {
                steps.later(op.id(), "Replacement", this::rollForward);
                return Future.failedFuture(new Failure.Unavailable("the new version of file " + op.fileId()
                        + " is committed and completes as the stores return (" + error.getMessage() + ")"));
            }
            undo(now).onFailure(e -> steps.later(op.id(), "Undo of replacement", this::undo));
            return Future.failedFuture(error);
        });
    }

    /** Extracts, chunks and embeds the new content (no store is written). */
    private Future<Made> make(IngestOperation op, Buffer bytes) {
        return steps.embeddingPool
                .executeBlocking(() -> steps.indexer.index(
                        bytes.getBytes(),
                        new ContentIndexer.Target(
                                op.tenantId(), op.fileId(), op.partition(), op.sha256(), op.contentType(), op.name())))
                .map(Made::new)
                .recover(error -> UploadFlow.embedderDown(error)
                        ? Future.succeededFuture(new Made(null))
                        : Future.failedFuture(error));
    }

    /** Copies the current content to the retention path of its version (before the commit: it is still the file's). */
    private Future<Void> retain(IngestOperation op, FileRecord file) {
        return steps.stores
                .blobs()
                .copy(op.blobKey(), StoreKeys.versionKey(op.tenantId(), op.fileId(), file.contentVersion()))
                .recover(error -> error instanceof Failure.NotFound
                        ? Future.failedFuture(new Failure.Conflict("file " + op.fileId()
                                + " has no content to keep as its previous version; repair it first"))
                        : Future.failedFuture(error));
    }

    /** Takes a committed replacement to DONE from whatever the stores hold (recovery, or a retry). */
    Future<FileRecord> rollForward(IngestOperation op) {
        return steps.stores.metadata().get(op.fileId()).compose(file -> {
            if (moved(op, file)) {
                return finish(op, file);
            }
            return steps.retry
                    .run(() -> steps.stores.blobs().read(op.writeKey()))
                    .compose(staged -> UploadFlow.verify(op, staged.info())
                            .compose(v -> make(op, staged.bytes()))
                            .compose(made -> forward(op, file, made)));
        });
    }

    /** The record already describes the new content. */
    private static boolean moved(IngestOperation op, FileRecord file) {
        return op.sha256().equals(file.sha256());
    }

    /** The committed part: content, points, record, in that order; then {@link #finish}. */
    private Future<FileRecord> forward(IngestOperation op, FileRecord before, Made made) {
        String key = op.blobKey();
        return steps.retry
                .run(() -> steps.stores.blobs().copy(op.writeKey(), key))
                .compose(v -> steps.pass(op, Step.VECTORS_WRITTEN, () -> points(op, made)))
                .compose(at -> steps.retry.run(() -> steps.stores.blobs().head(key)))
                .compose(blob -> history(before).compose(history -> move(op, before, made, blob.etag(), history)))
                .compose(after -> steps.hooks
                        .after(op.withStep(Step.METADATA_WRITTEN), Step.METADATA_WRITTEN)
                        .compose(v -> finish(op, after)));
    }

    /**
     * The new content's points written over the old ones (ids derive from the file and chunk number),
     * then every point of the file that is not one of them removed. With the vectors pending: every
     * point removed, and a job queued that makes the new ones.
     */
    private Future<Void> points(IngestOperation op, Made made) {
        if (made.pending()) {
            return steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()).compose(v -> steps.stores
                    .indexQueue()
                    .enqueue(IndexJob.of(op.fileId(), op.tenantId(), op.partition(), Instant.now())));
        }
        List<ChunkPoint> fresh = made.indexed().points();
        return steps.upsertPoints(fresh)
                .compose(v -> steps.stores.vectors().pointsOf(op.tenantId(), op.fileId()))
                .compose(all -> {
                    List<UUID> stale = new ArrayList<>();
                    for (ChunkPoint p : all) {
                        if (p.chunk() >= fresh.size() || !op.sha256().equals(p.contentSha256())) {
                            stale.add(p.id());
                        }
                    }
                    return stale.isEmpty()
                            ? Future.succeededFuture()
                            : steps.stores.vectors().delete(stale);
                });
    }

    /** The file's history as it stands, with who uploaded its first version when that is still known. */
    private Future<List<ContentVersion>> history(FileRecord file) {
        if (!file.history().isEmpty()) {
            return Future.succeededFuture(file.history());
        }
        return steps.stores.operations().uploadOf(file.id()).otherwiseEmpty().map(upload -> {
            ContentVersion first = file.contentVersions().get(0);
            return List.of(new ContentVersion(
                    first.version(),
                    first.sha256(),
                    first.size(),
                    first.contentType(),
                    first.at(),
                    upload == null ? null : upload.actor().subject(),
                    true));
        });
    }

    /**
     * Moves the record to the new content in one write conditioned on its old sha256 and version: a
     * metadata edit that lands in between makes it read the record again and write over the new
     * version. Completes with the record as written.
     */
    private Future<FileRecord> move(
            IngestOperation op, FileRecord file, Made made, String etag, List<ContentVersion> history) {
        long version = file.version() + 1;
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<ContentVersion> versions = new ArrayList<>();
        versions.add(new ContentVersion(
                version,
                op.sha256(),
                op.size(),
                op.contentType(),
                now,
                op.actor().subject(),
                true));
        for (int i = 0; i < history.size() && versions.size() < LISTED_VERSIONS; i++) {
            versions.add(history.get(i)
                    .superseded(i < RETAINED_VERSIONS && history.get(i).retained()));
        }
        FileRecord.Embedding embedding = made.pending()
                ? FileRecord.Embedding.pending(steps.indexer.modelName(), steps.indexer.dimension())
                : new FileRecord.Embedding(
                        steps.indexer.modelName(),
                        steps.indexer.dimension(),
                        made.indexed().points().size(),
                        op.sha256(),
                        made.indexed().failure());
        FileRecord moved = new FileRecord(
                file.id(),
                file.tenantId(),
                file.name(),
                op.contentType(),
                op.size(),
                op.sha256(),
                FileRecord.Status.ACTIVE,
                version,
                file.partition(),
                embedding,
                file.createdAt(),
                now,
                null,
                etag,
                file.labels(),
                versions);
        JsonObject doc = moved.toDocument();
        JsonObject set = new JsonObject();
        for (String field : List.of("contentType", "size", "sha256", "embedding", "blobEtag", FileRecord.HISTORY)) {
            set.put(field, doc.getValue(field));
        }
        JsonObject expected = new JsonObject().put("sha256", file.sha256()).put("version", file.version());
        return steps.retry
                .run(() -> steps.stores.metadata().patch(file.id(), expected, set))
                .compose(won -> steps.stores.metadata().get(file.id()).compose(now2 -> {
                    if (moved(op, now2)) {
                        return Future.succeededFuture(now2);
                    }
                    if (won || !now2.sha256().equals(file.sha256())) {
                        return Future.failedFuture(new Failure.Conflict(
                                "file " + file.id() + " changed while its new version was written"));
                    }
                    // A metadata edit came first: write over the version it made.
                    return move(op, now2, made, etag, history);
                }));
    }

    /**
     * The end of a replacement whose record is moved: the staged copy and the bytes of versions no
     * longer retained removed, events published, the operation DONE.
     */
    private Future<FileRecord> finish(IngestOperation op, FileRecord file) {
        List<String> dropped = new ArrayList<>();
        dropped.add(op.writeKey());
        for (ContentVersion v : file.history()
                .subList(Math.min(1, file.history().size()), file.history().size())) {
            if (!v.retained()) {
                dropped.add(StoreKeys.versionKey(file.tenantId(), file.id(), v.version()));
            }
        }
        ContentVersion previous = file.history().size() > 1 ? file.history().get(1) : null;
        JsonObject data = new JsonObject()
                .put("name", file.name())
                .put("version", file.version())
                .put("previous_version", previous == null ? null : previous.version())
                .put("sha256", file.sha256())
                .put("size", file.size())
                .put("contentType", file.contentType())
                .put("by", op.actor().subject());
        return steps.deleteBlobs(dropped)
                .compose(v -> steps.publishAndEnd(
                        op,
                        List.of(
                                new Draft(EventTypes.FILE_UPDATED, op.fileId(), op.id(), data),
                                steps.embeddingEvent(op, file))))
                .map(file);
    }

    /**
     * Undoes a replacement that did not commit: the file is still wholly its old version; the staged
     * bytes and the copy of the current content this replacement made are removed, then it is ABORTED.
     * Each removal is idempotent.
     */
    Future<Void> undo(IngestOperation op) {
        if (op.step() == Step.COMMITTED || op.step().terminal()) {
            return Future.succeededFuture();
        }
        return removeCopies(op)
                .compose(v -> steps.stores.operations().advance(op.id(), Step.ABORTED, op.lastError()))
                .onFailure(steps.breaker::record);
    }

    /**
     * Removes the staged bytes of an uncommitted replacement and the copy of the current content it
     * made for the retention path (that key is only ever written by a replacement of the current
     * version, and a file has one unfinished operation at a time).
     */
    private Future<Void> removeCopies(IngestOperation op) {
        return steps.stores
                .metadata()
                .get(op.fileId())
                .map(file -> moved(op, file)
                        ? null
                        : StoreKeys.versionKey(op.tenantId(), op.fileId(), file.contentVersion()))
                .recover(error ->
                        error instanceof Failure.NotFound ? Future.succeededFuture(null) : Future.failedFuture(error))
                .compose(retained -> {
                    List<String> keys = new ArrayList<>(List.of(op.writeKey()));
                    if (retained != null) {
                        keys.add(retained);
                    }
                    return steps.deleteBlobs(keys);
                });
    }

    private static <T> Future<T> notFound(BeginReplace request) {
        return Future.failedFuture(
                new Failure.NotFound("no file " + request.fileId() + " for user_id " + request.tenantId()));
    }
}
