package io.trisync.ingest;

import io.trisync.concurrent.Backoff;
import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.store.FileRecord;
import io.trisync.store.IndexJob;
import io.trisync.store.IngestOperation;
import io.trisync.store.StoreKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the vectors of files stored while the embedding service was unavailable ({@link IndexJob}s
 * in the index queue). Every ingest node runs one: each tick it takes due jobs one at a time under a
 * lease, embeds the file's content from S3, writes the points, records the embedding on the file
 * (only if the record still holds that content) and publishes {@code embedding.created}; text that
 * cannot be extracted, or content the service refuses, marks the file failed ({@code
 * embedding.failed}). A job that fails again is due again after a backoff with jitter (1 s doubling
 * up to a minute). A job whose file is gone or no longer pending is dropped.
 */
final class IndexWorker {

    private static final Logger LOG = LoggerFactory.getLogger(IndexWorker.class);

    /** Jobs taken per tick at most, so one tick does not hold the queue for long. */
    private static final int PER_TICK = 32;

    private static final long MAX_BACKOFF_MS = 60_000;

    /** How long the job of a file with an operation not ended yet is put off. */
    private static final Duration UNFINISHED_WAIT = Duration.ofMillis(500);

    private static final String HOLDER_PREFIX = "index:";
    private static final long RECLAIM_EVERY_MS = 2_000;

    private final Steps steps;
    private final String holder;
    private long lastReclaim;
    private boolean running;

    IndexWorker(Steps steps) {
        this.steps = steps;
        this.holder = HOLDER_PREFIX + steps.stores.incarnations().id();
    }

    /** Works through the due jobs (one tick); a tick while the last one runs does nothing. */
    void tick() {
        if (running) {
            return;
        }
        running = true;
        Promise<Integer> done = Promise.promise();
        reclaim().onComplete(v -> next(0, done));
        done.future()
                .onComplete(r -> running = false)
                .onSuccess(n -> {
                    if (n > 0) {
                        LOG.debug("Index queue: {} jobs taken", n);
                    }
                })
                .onFailure(e -> LOG.warn("Index queue could not be read: {}", e.getMessage()));
    }

    /**
     * At most every {@link #RECLAIM_EVERY_MS}: ends the leases of jobs whose holder's process is gone
     * (killed, or no longer a cluster member), as ingest recovery does for operations, so a killed
     * node's jobs are taken again within seconds instead of after their lease. Never fails the tick.
     */
    private Future<Void> reclaim() {
        long now = System.currentTimeMillis();
        if (now - lastReclaim < RECLAIM_EVERY_MS) {
            return Future.succeededFuture();
        }
        lastReclaim = now;
        return steps.stores
                .indexQueue()
                .holders(Instant.now())
                .compose(holders -> {
                    Map<String, String> byIncarnation = new HashMap<>();
                    holders.stream()
                            .filter(h -> h != null && h.startsWith(HOLDER_PREFIX) && !h.equals(holder))
                            .forEach(h -> byIncarnation.put(h.substring(HOLDER_PREFIX.length()), h));
                    return steps.stores
                            .incarnations()
                            .goneAmong(byIncarnation.keySet())
                            .compose(gone -> {
                                List<Future<Long>> released = new ArrayList<>();
                                gone.forEach((incarnation, why) -> released.add(steps.stores
                                        .indexQueue()
                                        .release(byIncarnation.get(incarnation))
                                        .onSuccess(n -> {
                                            if (n > 0) {
                                                LOG.info(
                                                        "Took back {} index jobs of incarnation {}: {}",
                                                        n,
                                                        incarnation,
                                                        why);
                                            }
                                        })));
                                return Future.join(released).<Void>mapEmpty();
                            });
                })
                .recover(e -> {
                    LOG.warn("Index jobs of gone nodes could not be taken back now: {}", e.getMessage());
                    return Future.succeededFuture();
                });
    }

    private void next(int taken, Promise<Integer> done) {
        if (taken >= PER_TICK) {
            done.complete(taken);
            return;
        }
        Instant now = Instant.now();
        steps.stores
                .indexQueue()
                .claimDue(holder, now, now.plus(steps.grace))
                .onFailure(done::fail)
                .onSuccess(job -> {
                    if (job == null) {
                        done.complete(taken);
                        return;
                    }
                    // Renewed while its vectors are made (a large file's take minutes): a lease that ran
                    // out would let another worker take the job and embed the file a second time, and
                    // its removal of the file's points after a failure would undo this one's.
                    long renewal = steps.vertx.setPeriodic(renewEveryMs(), id -> renew(job));
                    process(job).recover(error -> later(job, error)).onComplete(r -> {
                        steps.vertx.cancelTimer(renewal);
                        next(taken + 1, done);
                    });
                });
    }

    /** A third of the lease: two renewals may fail (MongoDB briefly away) before it runs out. */
    private long renewEveryMs() {
        return Math.max(100, steps.grace.toMillis() / 3);
    }

    private void renew(IndexJob job) {
        steps.stores
                .indexQueue()
                .renew(job.fileId(), holder, Instant.now().plus(steps.grace))
                .onSuccess(held -> {
                    if (!held) {
                        LOG.warn(
                                "Index job of file {} was taken by another worker while its vectors were made",
                                job.fileId());
                    }
                })
                .onFailure(e -> LOG.warn(
                        "Lease of the index job of file {} not renewed now: {}", job.fileId(), e.getMessage()));
    }

    /** When each file's put-off job was last said to wait long (one line a minute per file at most). */
    private final Map<String, Instant> warned = new HashMap<>();

    private boolean warnAgain(String fileId) {
        Instant now = Instant.now();
        Instant last = warned.get(fileId);
        if (last != null && last.isAfter(now.minus(Duration.ofMinutes(1)))) {
            return false;
        }
        if (warned.size() >= 1_000) {
            warned.clear();
        }
        warned.put(fileId, now);
        return true;
    }

    private Future<Void> process(IndexJob job) {
        Future<FileRecord> read = steps.stores
                .metadata()
                .get(job.fileId())
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(null) : Future.failedFuture(e));
        Future<IngestOperation> unfinished = steps.stores.operations().openOfFile(job.fileId());
        return Future.all(read, unfinished).compose(both -> {
            FileRecord record = read.result();
            IngestOperation open = unfinished.result();
            if (open != null) {
                // An operation of the file has not ended: an upload that has not committed (it may
                // still be undone) or whose events are not logged yet (its node fell between its commit
                // and them, and recovery logs them), a new version before its file.updated, a delete.
                // Taken up once it ended, so embedding.created follows the event of the content it
                // embeds; not counted as an attempt.
                if (open.unreadable() != null) {
                    // Recovery passes it by: it holds the file until a person corrects or removes it.
                    if (warnAgain(job.fileId())) {
                        LOG.warn("Index job of file {} put off: {}", job.fileId(), open.whyUnreadable());
                    }
                } else if (open.updatedAt().isBefore(Instant.now().minus(steps.grace)) && warnAgain(job.fileId())) {
                    // Recovery ends it, or keeps failing to (a store away, a staged version lost): said.
                    LOG.warn(
                            "Index job of file {} put off for {} s and counting: its {} operation {} has been at {}"
                                    + " since {}",
                            job.fileId(),
                            Duration.between(open.updatedAt(), Instant.now()).toSeconds(),
                            open.kind(),
                            open.id(),
                            open.step(),
                            open.updatedAt());
                } else {
                    LOG.debug(
                            "Index job of file {} put off: its {} operation {} is at {}",
                            job.fileId(),
                            open.kind(),
                            open.id(),
                            open.step());
                }
                return steps.stores
                        .indexQueue()
                        .putOff(job.fileId(), holder, Instant.now().plus(UNFINISHED_WAIT));
            }
            if (record == null
                    || record.status() != FileRecord.Status.ACTIVE
                    || record.embedding() == null
                    || !record.embedding().pending()) {
                return steps.stores.indexQueue().remove(job.fileId());
            }
            return embed(record).compose(v -> steps.stores.indexQueue().remove(job.fileId()));
        });
    }

    /**
     * Makes the file's points and upserts them a batch at a time as they are made ({@link
     * Steps#indexInBatches}), then records them. A pending file has no points, so when the model fails
     * part way, or refuses a chunk, every point of the file is removed before the job is tried again,
     * or the file is kept without search.
     */
    private Future<Void> embed(FileRecord record) {
        String key = StoreKeys.blobKey(record.tenantId(), record.partition(), record.id());
        ContentIndexer.Target target = new ContentIndexer.Target(
                record.tenantId(),
                record.id(),
                record.partition(),
                record.sha256(),
                record.contentType(),
                record.name());
        return Steps.whole(record.size(), () -> steps.retry
                        .run(() -> steps.stores.blobs().read(key))
                        .compose(content -> steps.indexInBatches(target, content.bytes(), () -> stillToIndex(record))))
                .transform(streamed -> {
                    if (streamed.failed() && streamed.cause() instanceof Changed) {
                        // Nothing more written: what was goes unless an operation holding the file now
                        // writes its points itself; the job is tried again (and ends once the record
                        // no longer waits for these vectors).
                        return steps.stores
                                .operations()
                                .openFor(record.id())
                                .compose(open -> open != null
                                        ? Future.<Void>succeededFuture()
                                        : steps.stores
                                                .vectors()
                                                .deleteContent(record.tenantId(), record.id(), record.sha256()))
                                .compose(v -> Future.failedFuture(streamed.cause()));
                    }
                    if (streamed.succeeded() && !streamed.result().failed()) {
                        return write(record, streamed.result().chunks());
                    }
                    Future<Void> removed =
                            streamed.succeeded() && streamed.result().written() == 0
                                    ? Future.succeededFuture()
                                    : steps.stores.vectors().deleteFile(record.tenantId(), record.id());
                    return removed.compose(v -> streamed.failed()
                            ? Future.failedFuture(streamed.cause())
                            : failed(record, streamed.result().failure()));
                });
    }

    /**
     * Fails with {@link Changed} once the file no longer waits for the vectors of {@code record}'s
     * content, or an upload, new version or delete holds it. A new version's points share the ids of
     * the old content's: a batch written over them after the new version moved its points took their
     * place, and the removal of the points of a changed file that followed left the new version
     * without vectors.
     */
    private Future<Void> stillToIndex(FileRecord record) {
        Future<IngestOperation> open = steps.stores.operations().openFor(record.id());
        return open.compose(held -> held != null
                ? Future.failedFuture(new Changed(record.id(), held.describe() + " holds it"))
                : steps.stores
                        .metadata()
                        .get(record.id())
                        .compose(now -> now.status() == FileRecord.Status.ACTIVE
                                        && now.sha256().equals(record.sha256())
                                        && now.embedding() != null
                                        && now.embedding().pending()
                                ? Future.<Void>succeededFuture()
                                : Future.failedFuture(new Changed(record.id(), "its record changed"))));
    }

    /** The file of an index job changed while its vectors were made: the job is tried again ({@link #later}). */
    private static final class Changed extends RuntimeException {
        Changed(String fileId, String why) {
            super("file " + fileId + " changed while its vectors were made (" + why + ")", null, false, false);
        }
    }

    private Future<Void> write(FileRecord record, int chunks) {
        JsonObject set = FileRecord.Embedding.indexedFields(
                steps.indexer.modelName(), steps.indexer.dimension(), chunks, record.sha256());
        return steps.stores
                .metadata()
                .patch(record.id(), stillPending(record), set)
                .compose(matched -> {
                    if (!matched) {
                        // Deleted (or changed) while it was embedded: the points just written must go,
                        // but not those a new version that came meanwhile wrote (they share the ids).
                        LOG.info("File {} changed while its vectors were made; they are removed", record.id());
                        return steps.stores.vectors().deleteContent(record.tenantId(), record.id(), record.sha256());
                    }
                    return steps.events
                            .publish(
                                    record.tenantId(),
                                    EventTypes.EMBEDDING_CREATED,
                                    record.id(),
                                    null,
                                    new JsonObject().put("chunks", chunks).put("model", steps.indexer.modelName()))
                            .mapEmpty();
                });
    }

    private Future<Void> failed(FileRecord record, String reason) {
        JsonObject set =
                new JsonObject().put(FileRecord.EMBEDDING_PENDING, false).put(FileRecord.EMBEDDING_FAILURE, reason);
        LOG.warn("File {} of tenant {} is kept without search: {}", record.id(), record.tenantId(), reason);
        return steps.stores
                .metadata()
                .patch(record.id(), stillPending(record), set)
                .compose(matched -> matched
                        ? steps.events
                                .publish(
                                        record.tenantId(),
                                        EventTypes.EMBEDDING_FAILED,
                                        record.id(),
                                        null,
                                        new JsonObject().put("reason", reason).put("model", steps.indexer.modelName()))
                                .mapEmpty()
                        : Future.succeededFuture());
    }

    private static JsonObject stillPending(FileRecord record) {
        return new JsonObject()
                .put("sha256", record.sha256())
                .put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire())
                .put(FileRecord.EMBEDDING_PENDING, true);
    }

    private Future<Void> later(IndexJob job, Throwable error) {
        long wait = backoffMs(job.attempts());
        LOG.info(
                "Vectors of file {} not made yet (attempt {}: {}); next try in {} ms",
                job.fileId(),
                job.attempts() + 1,
                error.getMessage(),
                wait);
        return steps.stores
                .indexQueue()
                .retryLater(job.fileId(), holder, Instant.now().plus(Duration.ofMillis(wait)), error.getMessage())
                .recover(e -> {
                    // Its lease runs out and another tick takes it again.
                    LOG.warn("Index job of file {} could not be put back: {}", job.fileId(), e.getMessage());
                    return Future.succeededFuture();
                });
    }

    /** 1 s doubling per attempt up to a minute, with full jitter. */
    private static long backoffMs(int attempts) {
        return Backoff.delayMs(1000, MAX_BACKOFF_MS, attempts + 1);
    }
}
