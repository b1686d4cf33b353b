package io.trisync.ingest;

import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.store.ChunkPoint;
import io.trisync.store.ContentVersion;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committed part of a new version ({@link ReplaceFlow}), every step idempotent and guarded by
 * what the stores hold, so the live node and recovery can each run it again from wherever it stopped:
 * the current bytes retained and the new ones copied over the file's key, the points replaced, the
 * record moved in one conditional write, then the end (queued vectors, staged copy removed, events,
 * DONE).
 */
final class VersionMove {

    private static final Logger LOG = LoggerFactory.getLogger(VersionMove.class);

    /** Previous versions whose bytes are kept; older ones stay listed in the history without content. */
    static final int RETAINED_VERSIONS = 10;

    /** At most this many versions are listed in a file's history. */
    static final int LISTED_VERSIONS = 100;

    private final Steps steps;

    VersionMove(Steps steps) {
        this.steps = steps;
    }

    /**
     * The new content's points: made already ({@code points}, {@code chunks} of them, or none and the
     * {@code failure}); none yet ({@code points} null: the embedding service is down, they are queued);
     * or made as they are written, once the replacement is committed ({@code content}: a large file,
     * {@link Steps#alone}, whose old version's points must stay searchable until the commit and share
     * the new ones' ids).
     */
    record Made(List<ChunkPoint> points, int chunks, String failure, Buffer content) {

        static Made of(ContentIndexer.Indexed indexed) {
            return new Made(indexed.points(), indexed.points().size(), indexed.failure(), null);
        }

        static Made queued() {
            return new Made(null, 0, null, null);
        }

        static Made later(Buffer content) {
            return new Made(List.of(), 0, null, content);
        }

        /** Points written as they were made: {@code chunks} of them, or none and the {@code failure}. */
        static Made written(int chunks, String failure) {
            return new Made(List.of(), chunks, failure, null);
        }

        boolean pending() {
            return points == null;
        }

        boolean madeLater() {
            return content != null;
        }
    }

    /** The record already describes this replacement's content (its newest version is this operation's). */
    static boolean moved(IngestOperation op, FileRecord file) {
        return !file.history().isEmpty() && op.id().equals(file.history().get(0).opId());
    }

    /** The committed part: content, points, record, in that order; then {@link #finish}. */
    Future<FileRecord> forward(IngestOperation op, FileRecord before, Made made) {
        Made[] written = {made};
        return moveContent(op, before)
                .compose(etag -> steps.pass(
                                op, Step.VECTORS_WRITTEN, () -> points(op, made).onSuccess(w -> written[0] = w))
                        .compose(at -> history(before))
                        .compose(history -> move(op, before, written[0], etag, history)))
                .compose(after -> steps.hooks
                        .after(op.withStep(Step.METADATA_WRITTEN), Step.METADATA_WRITTEN)
                        .compose(v -> finish(op, after)));
    }

    /**
     * Moves the file's key to the new bytes, keeping the current ones: while the key still holds the
     * content the record names, it is copied to the retention path of its version, then the staged
     * bytes are copied over it. Either copy can be made again; once the key holds the new bytes both
     * are skipped. Completes with the new object's ETag, checked to be the new content's.
     */
    private Future<String> moveContent(IngestOperation op, FileRecord before) {
        String key = op.blobKey();
        return steps.retry
                .run(() -> steps.stores.blobs().head(key))
                .recover(error ->
                        error instanceof Failure.NotFound ? Future.succeededFuture(null) : Future.failedFuture(error))
                .compose(current -> {
                    if (current != null && op.sha256().equals(current.sha256())) {
                        return Future.succeededFuture(current.etag());
                    }
                    boolean keep = current != null && before.sha256().equals(current.sha256());
                    if (!keep) {
                        LOG.warn(
                                "File {} did not hold its version {} when replaced; that version is not retained",
                                op.fileId(),
                                before.contentVersion());
                    }
                    Future<Void> kept = keep
                            ? steps.retry.run(() -> steps.stores
                                    .blobs()
                                    .copy(
                                            key,
                                            StoreKeys.versionKey(op.tenantId(), op.fileId(), before.contentVersion())))
                            : Future.succeededFuture();
                    return kept.compose(v ->
                                    steps.retry.run(() -> steps.stores.blobs().copy(op.writeKey(), key)))
                            .compose(v ->
                                    steps.retry.run(() -> steps.stores.blobs().head(key)))
                            .compose(written -> op.sha256().equals(written.sha256())
                                    ? Future.succeededFuture(written.etag())
                                    : Future.failedFuture(new Failure.Unavailable(
                                            "s3",
                                            "file " + op.fileId() + " changed while its new version was copied",
                                            null)));
                });
    }

    /**
     * The new content's points written over the old ones (ids derive from the file and chunk number),
     * then every point of the file that is not one of them removed. With the vectors pending: every
     * point removed (the job that makes them is queued once the record says pending, in {@link #finish}).
     * Completes with the points made (those made as they were written counted).
     */
    private Future<Made> points(IngestOperation op, Made made) {
        if (made.pending()) {
            return steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()).map(made);
        }
        if (made.madeLater()) {
            return pointsInBatches(op, made.content());
        }
        return steps.upsertPoints(made.points())
                .compose(v -> removeStale(op, made.chunks()))
                .map(made);
    }

    /**
     * A large file's points made and upserted a batch at a time, then the old ones past them removed.
     * When the embedding service goes down part way, or refuses a chunk, every point of the file is
     * removed and the version is pending, or kept without search, as when its points are made at once.
     */
    private Future<Made> pointsInBatches(IngestOperation op, Buffer content) {
        return steps.indexInBatches(Steps.target(op), content).transform(streamed -> {
            if (streamed.succeeded() && !streamed.result().failed()) {
                int chunks = streamed.result().chunks();
                return removeStale(op, chunks).map(Made.written(chunks, null));
            }
            if (streamed.failed() && !UploadFlow.embedderDown(streamed.cause())) {
                return Future.failedFuture(streamed.cause());
            }
            Made left = streamed.failed()
                    ? Made.queued()
                    : Made.written(0, streamed.result().failure());
            return steps.stores.vectors().deleteFile(op.tenantId(), op.fileId()).map(left);
        });
    }

    /** Removes the file's points that are not one of the new content's {@code chunks}. */
    private Future<Void> removeStale(IngestOperation op, int chunks) {
        return steps.stores.vectors().pointsOf(op.tenantId(), op.fileId()).compose(all -> {
            // Each from the collection of its copy (while the model changes, the serving
            // collection's copy of a chunk has the same id as the new one).
            List<ChunkPoint> stale = new ArrayList<>();
            for (ChunkPoint p : all) {
                if (p.chunk() >= chunks || !op.sha256().equals(p.contentSha256())) {
                    stale.add(p);
                }
            }
            return stale.isEmpty()
                    ? Future.succeededFuture()
                    : steps.stores.vectors().deletePoints(stale);
        });
    }

    /** The file's history as it stands, with who uploaded its first version when the log still says. */
    private Future<List<ContentVersion>> history(FileRecord file) {
        if (!file.history().isEmpty()) {
            return Future.succeededFuture(file.history());
        }
        return steps.stores.operations().uploadOf(file.id()).map(upload -> {
            ContentVersion first = file.contentVersions().get(0);
            return List.of(new ContentVersion(
                    first.version(),
                    first.sha256(),
                    first.size(),
                    first.contentType(),
                    first.at(),
                    upload == null ? null : upload.actor().subject(),
                    true,
                    null));
        });
    }

    /**
     * Moves the record to the new content in one write conditioned on its old sha256 and version: a
     * metadata edit that lands in between makes it read the record again and write over the version
     * the edit made. Completes with the record as written.
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
                true,
                op.id()));
        for (int i = 0; i < history.size() && versions.size() < LISTED_VERSIONS; i++) {
            versions.add(history.get(i)
                    .superseded(i < RETAINED_VERSIONS && history.get(i).retained()));
        }
        FileRecord.Embedding embedding = made.pending()
                ? FileRecord.Embedding.pending(steps.indexer.modelName(), steps.indexer.dimension())
                : new FileRecord.Embedding(
                        steps.indexer.modelName(),
                        steps.indexer.dimension(),
                        made.chunks(),
                        op.sha256(),
                        made.failure());
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
        for (String field : List.of(
                FileRecord.CONTENT_TYPE,
                FileRecord.SIZE,
                FileRecord.SHA256,
                FileRecord.EMBEDDING,
                FileRecord.BLOB_ETAG,
                FileRecord.HISTORY)) {
            set.put(field, doc.getValue(field));
        }
        JsonObject expected =
                new JsonObject().put(FileRecord.SHA256, file.sha256()).put(FileRecord.VERSION, file.version());
        return steps.retry
                .run(() -> steps.stores.metadata().patch(file.id(), expected, set))
                .compose(won -> steps.stores.metadata().get(file.id()).compose(after -> {
                    if (moved(op, after)) {
                        return Future.succeededFuture(after);
                    }
                    if (after.status() == FileRecord.Status.UNREADABLE) {
                        // Edited by hand meanwhile: no version of it can be matched again, so not tried.
                        return Future.failedFuture(after.unreadableConflict());
                    }
                    if (won || !after.sha256().equals(file.sha256())) {
                        return Future.failedFuture(new Failure.Conflict(
                                "file " + file.id() + " changed while its new version was written"));
                    }
                    // A metadata edit came first: write over the version it made.
                    return move(op, after, made, etag, history);
                }));
    }

    /**
     * The end of a replacement whose record is moved: its vectors queued when they are pending, the
     * staged copy and the bytes of versions no longer retained removed, events published, DONE.
     */
    Future<FileRecord> finish(IngestOperation op, FileRecord file) {
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
        Future<Void> queued = file.embedding() != null && file.embedding().pending()
                ? steps.stores
                        .indexQueue()
                        .enqueue(IndexJob.of(op.fileId(), op.tenantId(), op.partition(), Instant.now()))
                : Future.succeededFuture();
        return queued.compose(v -> steps.deleteBlobs(dropped))
                .compose(v -> steps.publishAndEnd(
                        op,
                        List.of(
                                new Draft(EventTypes.FILE_UPDATED, op.fileId(), op.id(), data),
                                steps.embeddingEvent(op, file))))
                .map(file);
    }
}
