package io.trisync.ingest;

import io.trisync.concurrent.GroupCommit;
import io.trisync.concurrent.MemoryBudget;
import io.trisync.embedding.ContentIndexer;
import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.failure.Breaker;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.store.BlobInfo;
import io.trisync.store.BlobStore;
import io.trisync.store.Buffers;
import io.trisync.store.ChunkPoint;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.Retry;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the upload, delete and recovery flows share: the stores, retries, the breaker, event
 * publishing, the embedding worker pool and the test hooks; and {@link #take}, which performs one
 * step and records it in the operation log before the next step may start.
 */
final class Steps {

    private static final Logger LOG = LoggerFactory.getLogger(Steps.class);

    /**
     * The promise writes in flight ({@link PromisedUploads#promise}), by operation id. A completion
     * that fails waits for its own before it reads whether it was promised: read while the write is
     * on its way, it would undo an upload whose client is then answered 202.
     */
    private final Map<String, Future<?>> promising = new ConcurrentHashMap<>();
    /** Operations whose flow failed and is settling them (undo or finish): no 202 is promised for them. */
    private final Set<String> failing = ConcurrentHashMap.newKeySet();

    /** The longest a failure's answer waits for its operation to be settled (it goes on after). */
    static final long SETTLE_ANSWER_WAIT_MS = 2_000;

    final Vertx vertx;
    final Stores stores;
    final EventPublisher events;
    final Retry retry;
    final Breaker breaker;
    final IngestHooks hooks;
    final ContentIndexer indexer;
    final WorkerExecutor embeddingPool;
    final String nodeId;
    final int partitions;
    /** How long an operation may go untouched before recovery may claim it. */
    final Duration grace;

    final Metrics metrics;

    /** Most files indexed in one call: as many as a cohort holds, so that one comes out in one turn. */
    static final int INDEX_COHORT = Cohorts.MAX_COHORT;

    /**
     * Indexing as a group commit: the files that reach it while a call is on the embedding pool are
     * indexed together in the next one (their chunks embedded as one input), and their uploads go on
     * from it in one event-loop turn, so their next writes (record and points, commit, events, end)
     * share round trips instead of meeting by chance. One file's failure to prepare fails it alone;
     * a model that fails fails the call's files (a provider that refuses the combined input is asked
     * file by file). A file over 256 KiB is indexed {@link #alone}.
     */
    private final GroupCommit<ToIndex, ContentIndexer.Indexed> indexing;

    /** A file waiting to be indexed: its content and where its points go. */
    private record ToIndex(Buffer content, ContentIndexer.Target target) {}

    /**
     * Fails 409 {@code tenant_erasing} while the tenant is being erased: it takes no new writes then
     * (from at most {@link io.trisync.store.TenantErasures#LEASE} after the erasure began, before which
     * it removes nothing).
     */
    static Future<Void> notErasing(Stores stores, String tenantId) {
        return stores.erasures().admitting(tenantId);
    }

    /**
     * Fails with the operation's 409 ({@link IngestOperation#unreadableConflict}) while an unfinished
     * operation that cannot be read (a field edited by hand) holds the file: what it does to the file
     * cannot be told, so a person corrects it first. A readable unfinished one does not stop this.
     */
    static Future<Void> notHeldUnreadable(Stores stores, String fileId) {
        return stores.operations()
                .openFor(fileId)
                .compose(open -> open != null && open.unreadable() != null
                        ? Future.failedFuture(open.unreadableConflict())
                        : Future.succeededFuture());
    }

    Steps(
            Vertx vertx,
            Stores stores,
            EventPublisher events,
            Retry retry,
            Breaker breaker,
            IngestHooks hooks,
            ContentIndexer indexer,
            WorkerExecutor embeddingPool,
            String nodeId,
            int partitions,
            Duration grace,
            Metrics metrics) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.stores = stores;
        this.events = events;
        this.retry = retry;
        this.breaker = breaker;
        this.hooks = hooks;
        this.indexer = indexer;
        this.embeddingPool = embeddingPool;
        this.nodeId = nodeId;
        this.partitions = partitions;
        this.grace = grace;
        this.indexing = new GroupCommit<>(INDEX_COHORT, 1, this::indexTogether);
    }

    /**
     * The points of {@code op}'s new content (or why its text could not be extracted), made on the
     * embedding pool together with those of the other files that reach this meanwhile. Fails as the
     * model fails (an embedding service that is down fails every file of the call). For a file not
     * indexed {@link #alone}.
     */
    Future<ContentIndexer.Indexed> index(IngestOperation op, Buffer content) {
        return indexing.submit(new ToIndex(content, target(op)));
    }

    /**
     * Whether {@code content} is indexed alone, a batch at a time ({@link #indexInBatches}), rather
     * than with the files that reach indexing meanwhile: a large file, which the small ones would
     * wait for, and whose chunks, vectors and points together would take several times its size.
     */
    static boolean alone(Buffer content) {
        return content.length() > Cohorts.AWAITED_BYTES;
    }

    /**
     * Runs {@code work}, which holds a file of {@code size} bytes whole in memory while it embeds it,
     * within the heap's budget when the file is large ({@link MemoryBudget}); small files, embedded
     * together, are bounded by their cohorts.
     */
    static <T> Future<T> whole(long size, Supplier<Future<T>> work) {
        return size > Cohorts.AWAITED_BYTES ? MemoryBudget.HEAP.holding(size, work) : work.get();
    }

    /**
     * The file's record as its readers may see it. An upload writes its record before it commits, and
     * until the commit an undo (its own, or recovery's after a crash) can still remove it: such a
     * record is not there yet for anyone but the upload, which answers its client only after the
     * commit. Read beside the record, so a read waits for the slower of the two lookups, not both.
     */
    static Future<FileRecord> visible(Stores stores, String fileId, String tenantId) {
        Future<FileRecord> record = stores.metadata().get(fileId);
        Future<Set<String>> uploading = stores.operations().uploading(List.of(fileId));
        return Future.all(record, uploading).compose(both -> {
            if (!uploading.result().contains(fileId)) {
                FileRecord file = record.result();
                // A record that cannot be read is neither served nor written over: a person corrects it
                // first. Said so only to its own tenant (or an admin): another gets the not-found it
                // gets for any file of another tenant.
                return file.status() == FileRecord.Status.UNREADABLE
                                && (tenantId == null || tenantId.equals(file.tenantId()))
                        ? Future.failedFuture(file.unreadableConflict())
                        : record;
            }
            // Said so only to its own tenant (or an admin): to another the file is just not there.
            boolean own = tenantId == null || tenantId.equals(record.result().tenantId());
            // To another tenant the answer is the store's own for a file it does not hold.
            return Future.failedFuture(
                    own
                            ? new Failure.NotFound("no file " + fileId + STILL_COMPLETING)
                            : new Failure.NotFound("mongodb", "no file " + fileId));
        });
    }

    /** What a write to a file its tenant deleted is told: the words of {@code GET …/content} for it. */
    static Failure deleted(String fileId) {
        return new Failure.NotFound("file " + fileId + " is deleted");
    }

    /**
     * Fails with {@code notFound}, or, while the operation log keeps the upload that named this id
     * ({@code RETENTION_INGEST_OPERATIONS_DAYS}) and it is {@code tenantId}'s (any tenant's when null,
     * an admin's request), a not-found that says what became of it: undone (the client must upload it
     * again) or still completing (it appears once it commits; so from its begin, before its record
     * is written, as after). Every reader and writer of one file answers its missing file so. While
     * an operation of the file that may be the tenant's cannot be read (a field edited by hand), the
     * log tells nothing: the not-found says so, naming the operation and the field when it is the
     * tenant's (or the request an admin's); a file whose upload is still completing is said to be so.
     */
    static <T> Future<T> whyNoFile(Stores stores, String fileId, String tenantId, Throwable notFound) {
        return stores.operations().ofFile(fileId).compose(ops -> {
            IngestOperation unreadable = ops.stream()
                    .filter(op -> op.unreadable() != null)
                    .filter(op -> tenantId == null || op.tenantId() == null || tenantId.equals(op.tenantId()))
                    .findFirst()
                    .orElse(null);
            if (unreadable != null && !stillCompleting(notFound)) {
                return Future.failedFuture(
                        tenantId == null || tenantId.equals(unreadable.tenantId())
                                ? new Failure.NotFound("no file " + fileId + "; what became of it is not told: "
                                        + unreadable.whyUnreadable())
                                : notFound);
            }
            if (unreadable != null) {
                // Still completing, as notFound says; the unreadable operation may be that upload (its
                // step edited by hand), which the judgements below cannot read.
                return Future.failedFuture(notFound);
            }
            IngestOperation upload = ops.stream()
                    .filter(op -> op.kind() == IngestOperation.Kind.UPLOAD)
                    .filter(op -> tenantId == null || tenantId.equals(op.tenantId()))
                    .reduce((first, last) -> last)
                    .orElse(null);
            if (upload != null && upload.step() == Step.ABORTED) {
                return Future.failedFuture(new Failure.NotFound("no file " + fileId
                        + ": its upload did not complete and was undone (operation " + upload.id()
                        + "); upload it again"));
            }
            if (upload != null && !upload.step().terminal() && upload.step() != Step.COMMITTED) {
                return Future.failedFuture(new Failure.NotFound("no file " + fileId
                        + " yet: its upload is still completing (operation " + upload.id()
                        + "); it is shown once it commits"));
            }
            if (upload != null && upload == IngestOperation.lastKept(ops, upload.tenantId())) {
                // Committed, neither deleted nor replaced since: its record was lost behind trisync's back.
                return Future.failedFuture(new Failure.NotFound("no file " + fileId
                        + ": its record is missing though its upload committed (operation " + upload.id()
                        + "); a scan reports its content as ORPHAN_BLOB and a fix restores the record"
                        + " (RESTORE_RECORD) when the content is the upload's"));
            }
            return Future.failedFuture(notFound);
        });
    }

    /** How {@link #visible} ends its not-found for a file whose upload is still completing. */
    static final String STILL_COMPLETING = " yet: its upload is still completing; it is shown once it commits";

    /** Whether {@code error} is {@link #visible}'s not-found for a file still being uploaded. */
    static boolean stillCompleting(Throwable error) {
        return error instanceof Failure.NotFound
                && String.valueOf(error.getMessage()).endsWith(STILL_COMPLETING);
    }

    /** Runs {@code write}, the promise of operation {@code opId}, known as in flight until it ends. */
    Future<Void> promising(String opId, Supplier<Future<Void>> write) {
        if (failing.contains(opId)) {
            // Its flow failed and is undoing it: a 202 now would be undone under its client.
            return Future.failedFuture(new Failure.Unavailable("it failed and is being undone"));
        }
        Future<Void> written = write.get();
        promising.put(opId, written);
        return written.andThen(done -> promising.remove(opId, written));
    }

    /**
     * Settles an operation whose flow failed ({@code settle}: the log read afresh, then undone or
     * finished) once any promise of it in flight has landed, refusing new promises meanwhile: a 202
     * recorded after the undo began would be undone under its client. Completes when {@code settle}
     * does, however it ends, or after {@link #SETTLE_ANSWER_WAIT_MS} if it takes longer (a store
     * being retried): the failure is then answered, so that a retry sent on the answer finds the
     * operation ended rather than 409, and the other uploads of its cohort are not held long.
     */
    Future<Void> settleFailure(String opId, Supplier<Future<?>> settle) {
        failing.add(opId);
        Future<?> settled = promiseSettled(opId).compose(v -> settle.get()).andThen(done -> failing.remove(opId));
        Promise<Void> answered = Promise.promise();
        long timer = vertx.setTimer(SETTLE_ANSWER_WAIT_MS, id -> answered.tryComplete());
        settled.onComplete(done -> {
            vertx.cancelTimer(timer);
            answered.tryComplete();
        });
        return answered.future();
    }

    /** Completes once no promise write of operation {@code opId} is in flight, however it ended. */
    Future<Void> promiseSettled(String opId) {
        Future<?> inFlight = promising.get(opId);
        return inFlight == null ? Future.succeededFuture() : inFlight.transform(done -> Future.succeededFuture());
    }

    /** Where the points of {@code op}'s new content go. */
    static ContentIndexer.Target target(IngestOperation op) {
        return new ContentIndexer.Target(
                op.tenantId(), op.fileId(), op.partition(), op.sha256(), op.contentType(), op.name());
    }

    /**
     * Embeds {@code content} on the embedding pool and upserts its points as they are made, {@link
     * #UPSERT_BATCH} at a time, each batch retried while it fails retriably ({@link
     * ContentIndexer#stream}): memory holds the bytes, the text and two batches, whatever the file's
     * size. Completes once every upsert has ended, also when it fails; the caller removes what was
     * written when it fails or the content was refused part way.
     */
    Future<ContentIndexer.Streamed> indexInBatches(ContentIndexer.Target target, Buffer content) {
        return indexInBatches(target, content, Future::succeededFuture);
    }

    /**
     * {@link #indexInBatches(ContentIndexer.Target, Buffer)} with {@code beforeEachBatch} run before each
     * batch is upserted: a failure of it stops the stream, nothing more written.
     */
    Future<ContentIndexer.Streamed> indexInBatches(
            ContentIndexer.Target target, Buffer content, Supplier<Future<Void>> beforeEachBatch) {
        ContentIndexer.PointSink upsert =
                ContentIndexer.PointSink.on(vertx.getOrCreateContext(), batch -> beforeEachBatch
                        .get()
                        .compose(v -> retry.run(() -> stores.vectors().upsert(batch))));
        // Unordered, as indexTogether: a stream whose provider hangs (an index job, a large file) must not
        // hold this verticle's other embeddings behind it; each takes a thread of the pool of its own.
        return embeddingPool.executeBlocking(
                () -> indexer.stream(Buffers.view(content), target, UPSERT_BATCH, upsert), false);
    }

    /**
     * A cohort's files indexed in one call. Unordered (a verticle's blocking tasks otherwise run one
     * after another): an upload's cohort does not wait behind an index job or a large file whose
     * embedding hangs on this verticle; the group commit already sends one cohort at a time.
     */
    private Future<List<Future<ContentIndexer.Indexed>>> indexTogether(List<ToIndex> files) {
        return embeddingPool.executeBlocking(
                () -> {
                    List<Future<ContentIndexer.Indexed>> outcomes = new ArrayList<>(files.size());
                    List<ContentIndexer.Prepared> prepared = new ArrayList<>(files.size());
                    for (ToIndex file : files) {
                        try {
                            prepared.add(indexer.prepare(Buffers.view(file.content()), file.target()));
                            outcomes.add(null);
                        } catch (Exception | StackOverflowError e) {
                            // As the pool answered one file's call that threw: that file fails, not the others.
                            outcomes.add(Future.failedFuture(e));
                        }
                    }
                    List<ContentIndexer.Indexed> indexed = indexer.indexAll(prepared);
                    for (int i = 0, next = 0; i < outcomes.size(); i++) {
                        if (outcomes.get(i) == null) {
                            outcomes.set(i, Future.succeededFuture(indexed.get(next++)));
                        }
                    }
                    return outcomes;
                },
                false);
    }

    /**
     * The embedding event of a file just written: {@code embedding.created}, or {@code
     * embedding.failed} when its record holds an extraction failure, {@code embedding.pending} when its
     * vectors wait in the index queue.
     */
    EventPublisher.Draft embeddingEvent(IngestOperation op, FileRecord record) {
        FileRecord.Embedding embedding = record.embedding();
        String model = indexer.modelName();
        if (embedding != null && embedding.pending()) {
            return new EventPublisher.Draft(
                    EventTypes.EMBEDDING_PENDING,
                    op.fileId(),
                    op.id(),
                    new JsonObject()
                            .put("reason", "the embedding service is unavailable")
                            .put("model", model));
        }
        if (embedding != null && embedding.failure() != null) {
            return new EventPublisher.Draft(
                    EventTypes.EMBEDDING_FAILED,
                    op.fileId(),
                    op.id(),
                    new JsonObject().put("reason", embedding.failure()).put("model", model));
        }
        int chunks = embedding == null ? 0 : embedding.chunks();
        return new EventPublisher.Draft(
                EventTypes.EMBEDDING_CREATED,
                op.fileId(),
                op.id(),
                new JsonObject().put("chunks", chunks).put("model", model));
    }

    /**
     * Lets a write in while the upload breaker counts every store up; when it counts one down, this
     * write probes it (one at a time): if it answers, the breaker closes and the write goes on, else it
     * fails 503 at once.
     */
    Future<Void> admit() {
        Breaker.Decision decision = breaker.check();
        if (decision.store() == null) {
            return Future.succeededFuture();
        }
        if (!decision.probe()) {
            return unavailable(decision.store());
        }
        return stores.ping(decision.store()).transform(ping -> {
            if (ping.failed()) {
                return unavailable(decision.store());
            }
            breaker.closed(decision.store());
            return Future.succeededFuture();
        });
    }

    private static <T> Future<T> unavailable(String store) {
        return Future.failedFuture(
                new Failure.Unavailable(store + " is unavailable; retry in " + Failure.RETRY_AFTER_SECONDS + "s"));
    }

    private static final long LATER_FIRST_MS = 500;
    private static final long LATER_MAX_MS = 4_000;
    private static final long LATER_FOR_MS = 600_000;

    /**
     * An operation that could not be finished (or undone) now because a store was down is tried again
     * here, with a backoff doubling from {@value #LATER_FIRST_MS} ms up to {@value #LATER_MAX_MS} ms,
     * until it has ended or ten minutes have passed: so it ends within seconds of the store's return
     * instead of after the recovery grace. Each try reads the operation afresh and takes it ({@link
     * OperationLog#take} under {@link #flowHolder}), and keeps its lease running while {@code work}
     * runs (a heartbeat, as the flow's own): while recovery holds it, the try does nothing and the
     * next one looks again (recovery may end it, or give it up). So a retry and a recovery sweep never
     * work one operation at once, and an operation's events are not logged twice under different
     * numbers by the two of them.
     */
    /**
     * Undoes {@code op} with {@code undo} now; what cannot be undone now (a store is away) is undone
     * as the stores return ({@link #later}), not only once recovery's grace is over.
     */
    Future<Void> undoNowOrLater(IngestOperation op, String what, Function<IngestOperation, Future<Void>> undo) {
        return undo.apply(op).onFailure(error -> later(op.id(), what, undo::apply));
    }

    void later(String opId, String what, Function<IngestOperation, Future<?>> work) {
        later(opId, what, work, LATER_FIRST_MS, System.currentTimeMillis() + LATER_FOR_MS);
    }

    private void later(
            String opId, String what, Function<IngestOperation, Future<?>> work, long delayMs, long deadline) {
        vertx.setTimer(delayMs, id -> stores.operations()
                .get(opId)
                .compose(op -> op.step().terminal() ? Future.succeededFuture(true) : tryOnce(op, work, deadline))
                .onComplete(tried -> {
                    if (tried.succeeded() && tried.result()) {
                        return;
                    }
                    boolean again = tried.succeeded() || (tried.cause() instanceof Failure f && f.retriable());
                    if (again && System.currentTimeMillis() < deadline) {
                        later(opId, what, work, Math.min(LATER_MAX_MS, delayMs * 2), deadline);
                    } else {
                        LOG.warn(
                                "{} {} is left to recovery: {}",
                                what,
                                opId,
                                tried.succeeded()
                                        ? "another holds it"
                                        : tried.cause().getMessage());
                    }
                }));
    }

    /**
     * Takes unfinished {@code op} and runs {@code work} on it under a heartbeat (until {@code deadline}
     * at most: work that never ends does not keep the operation from recovery for good); completes
     * with false, doing nothing, while another (recovery) holds it.
     */
    private Future<Boolean> tryOnce(IngestOperation op, Function<IngestOperation, Future<?>> work, long deadline) {
        String holder = flowHolder(op);
        String incarnation = stores.incarnations().id();
        return stores.operations()
                .take(op.id(), holder, Instant.now().plus(grace), incarnation)
                .compose(taken -> {
                    if (taken == null) {
                        return Future.succeededFuture(false);
                    }
                    long heartbeat = holdLease(taken, holder, incarnation);
                    long stop = vertx.setTimer(
                            Math.max(1, deadline - System.currentTimeMillis()), id -> vertx.cancelTimer(heartbeat));
                    // Started inside a future, so that work that throws at once still stops the heartbeat.
                    return Future.succeededFuture(taken)
                            .compose(work::apply)
                            .onComplete(done -> {
                                vertx.cancelTimer(heartbeat);
                                vertx.cancelTimer(stop);
                            })
                            .map(true);
                });
    }

    /**
     * The blob an upload wrote at {@code key}, to verify and index: when the receiving node is this
     * process, the bytes it holds in memory for the operation ({@link HeldBodies}, hashed as it put
     * them) or its spool file while that is still there (S3 acknowledged the PUT of those very bytes,
     * whose hash the verification checks again); else read back from S3.
     */
    Future<BlobStore.Content> written(IngestOperation op, String key, IngestMessages.Staged staged) {
        if (staged == null
                || staged.etag() == null
                || !stores.incarnations().id().equals(staged.incarnation())) {
            return stores.blobs().read(key);
        }
        HeldBodies.Body held = HeldBodies.borrow(op.id());
        if (held != null) {
            return Future.succeededFuture(acknowledged(op, key, staged, held.bytes(), held.sha256()));
        }
        if (staged.path() == null) {
            return stores.blobs().read(key);
        }
        return vertx.executeBlocking(
                        () -> {
                            // Read into one array of the file's size and hashed as it is read: the
                            // bytes are held once, by the buffer that wraps that array.
                            Path path = Path.of(staged.path());
                            MessageDigest digest = StoreKeys.sha256Digest();
                            byte[] bytes;
                            try (InputStream in = Files.newInputStream(path)) {
                                bytes = Buffers.readAll(in, Files.size(path), digest);
                            }
                            return acknowledged(
                                    op,
                                    key,
                                    staged,
                                    Buffers.wrap(bytes),
                                    HexFormat.of().formatHex(digest.digest()));
                        },
                        false)
                .recover(gone -> stores.blobs().read(key));
    }

    /** {@code bytes} as the blob S3 acknowledged at {@code key}, with the ETag of that PUT. */
    private static BlobStore.Content acknowledged(
            IngestOperation op, String key, IngestMessages.Staged staged, Buffer bytes, String sha256) {
        return new BlobStore.Content(
                new BlobInfo(
                        key, bytes.length(), staged.etag(), null, op.contentType(), Map.of(BlobInfo.SHA256, sha256)),
                bytes);
    }

    /** Deletes {@code keys} in one request; fails when S3 kept any of them. */
    Future<Void> deleteBlobs(List<String> keys) {
        return retry.run(() -> stores.blobs().deleteAll(keys))
                .compose(done -> done.failed().isEmpty()
                        ? Future.succeededFuture()
                        : Future.failedFuture(
                                new Failure.Unavailable("s3", "objects not deleted: " + done.failed(), null)));
    }

    /** Deletes every object under {@code prefix}, a page at a time, until none is listed. */
    Future<Void> removeBlobs(String prefix) {
        return retry.run(() -> stores.blobs().list(prefix, null, BlobStore.MAX_BATCH_DELETE, false))
                .compose(page -> page.items().isEmpty()
                        ? Future.succeededFuture()
                        : deleteBlobs(page.items().stream().map(BlobInfo::key).toList())
                                .compose(v -> removeBlobs(prefix)));
    }

    /** Points go to Qdrant this many to an upsert. */
    static final int UPSERT_BATCH = 256;

    /**
     * Upserts {@code points}, {@link #UPSERT_BATCH} to a request, all at once; ends when every
     * request has ended, so that nothing lands after a failure was reported (and undone).
     */
    Future<Void> upsertPoints(List<ChunkPoint> points) {
        List<Future<Void>> batches = new ArrayList<>();
        for (int i = 0; i < points.size(); i += UPSERT_BATCH) {
            batches.add(stores.vectors().upsert(points.subList(i, Math.min(points.size(), i + UPSERT_BATCH))));
        }
        return Future.join(batches).mapEmpty();
    }

    /**
     * The operation is no longer this node's (recovery claimed it, or it already ended): whoever holds
     * it now finishes it, so the node that lost it must not undo anything.
     */
    static final class LeaseLost extends ReplyException {
        LeaseLost(IngestOperation op) {
            super(
                    ReplyFailure.RECIPIENT_FAILURE,
                    503,
                    "operation " + op.id()
                            + " is no longer held by this node (it outlived its lease or already ended)");
        }
    }

    /**
     * The lease holder of an upload while it runs. It names the operation, not a node: the receiving
     * node's request to complete may reach the ingest verticle of another node than the one that
     * recorded it, and that one must hold the same lease. Recovery claims under a node id, which
     * never looks like this.
     */
    static String uploadHolder(IngestOperation op) {
        return uploadHolder(op.id());
    }

    /** {@link #uploadHolder(IngestOperation)} of operation {@code opId}. */
    static String uploadHolder(String opId) {
        return "upload:" + opId;
    }

    /**
     * The holder under which a flow's own retries ({@link #later}) take its operation: an upload's or
     * new version's own lease holder (so a retry goes on under a lease the flow still holds), and one
     * of the same form for a delete, which holds none while it runs.
     */
    static String flowHolder(IngestOperation op) {
        return op.kind() == IngestOperation.Kind.DELETE ? "delete:" + op.id() : uploadHolder(op);
    }

    /**
     * Runs {@code work} (retried while it fails retriably), then records {@code step} as done, then
     * lets the hook see it. Completes with the operation at {@code step}. A failure is noted by the
     * breaker and recorded on the operation (best effort) before it is passed on.
     */
    Future<IngestOperation> take(IngestOperation op, Step step, Supplier<Future<?>> work) {
        return retry.run(work::get)
                .compose(done -> retry.run(() -> stores.operations().advance(op.id(), step, null)))
                .compose(done -> hooks.after(op, step))
                .map(done -> op.withStep(step))
                .onFailure(error -> noteFailure(op, error));
    }

    /** Logs and publishes a committed operation's events in one write, then records it DONE. */
    Future<Void> publishAndEnd(IngestOperation op, List<EventPublisher.Draft> drafts) {
        return events.publishAll(op.tenantId(), drafts)
                .compose(published -> end(op))
                .mapEmpty();
    }

    /**
     * Commits an upload ({@link #commitUpload}) and logs its events: their numbers are taken beside
     * the commit (one round trip less than after it) and given up if the commit fails. Completes once
     * the events are logged, and records the upload DONE without being waited for: its client is
     * answered a round trip sooner. The commit freed the file, so a delete sent on the answer is not
     * refused while the end is on its way. An end that fails is tried again as the store returns, and
     * else recovery ends it, finding its events logged ({@link #endUnlessLogged}).
     */
    Future<Void> commitAndPublish(IngestOperation op, List<EventPublisher.Draft> drafts) {
        return commitAndPublish(op, uploadHolder(op), drafts);
    }

    /** {@link #commitAndPublish(IngestOperation, List)} under the lease {@code holder} holds (recovery's claim). */
    Future<Void> commitAndPublish(IngestOperation op, String holder, List<EventPublisher.Draft> drafts) {
        long committing = System.nanoTime();
        Future<EventPublisher.Reservation> numbers = events.reserve(op.tenantId(), drafts);
        return commitUpload(op, holder)
                .transform(committed -> numbers.transform(reserved -> {
                    long logging = System.nanoTime();
                    metrics.uploadStage("commit", logging - committing);
                    if (committed.failed()) {
                        if (reserved.succeeded()) {
                            reserved.result().skip();
                        }
                        return Future.failedFuture(committed.cause());
                    }
                    Future<List<Event>> logged = (reserved.succeeded()
                                    ? reserved.result().log()
                                    : events.publishAll(op.tenantId(), drafts))
                            .andThen(done -> metrics.uploadStage("events", System.nanoTime() - logging));
                    return logged.onSuccess(published -> end(committed.result())
                                    .onFailure(error -> later(op.id(), "End of upload", this::end)))
                            .<Void>mapEmpty();
                }));
    }

    /** Records a committed operation DONE (its events logged). */
    Future<IngestOperation> end(IngestOperation op) {
        return take(op, Step.DONE, Future::succeededFuture);
    }

    /**
     * Ends committed operation {@code op} taken up again (recovery, a retry): only records it DONE
     * when its events are in the event log already (its node logged them and fell, or its end failed,
     * before recording the end), else runs {@code publish}, which logs them and ends it.
     */
    Future<Void> endUnlessLogged(IngestOperation op, Supplier<Future<?>> publish) {
        return stores.events()
                .logged(op.tenantId(), op.id())
                .compose(logged ->
                        logged ? end(op).<Void>mapEmpty() : publish.get().<Void>mapEmpty());
    }

    /**
     * Records an upload's commit on an operation this node holds the lease of, and frees its file in
     * the same write: after the commit the upload only logs its events and ends. Fails (503) without
     * writing when recovery claimed it.
     */
    Future<IngestOperation> commitUpload(IngestOperation op) {
        return commitUpload(op, uploadHolder(op));
    }

    private Future<IngestOperation> commitUpload(IngestOperation op, String holder) {
        return held(op, Step.COMMITTED, () -> stores.operations()
                .advanceIfHeldReleasingFile(op.id(), Step.COMMITTED, holder));
    }

    /**
     * Records {@code step} on an operation this node holds the lease of, then lets the hook see it.
     * Fails (503) without writing when recovery claimed the operation after the lease ran out.
     */
    Future<IngestOperation> takeHeld(IngestOperation op, Step step) {
        return held(op, step, () -> stores.operations().advanceIfHeld(op.id(), step, uploadHolder(op)));
    }

    private Future<IngestOperation> held(IngestOperation op, Step step, Supplier<Future<Boolean>> write) {
        return retry.run(write::get)
                .compose(held -> held
                        ? hooks.after(op, step).map(op.withStep(step))
                        : Future.<IngestOperation>failedFuture(new LeaseLost(op)))
                .onFailure(breaker::record);
    }

    /**
     * Keeps the lease of an operation this node works on from running out (a heartbeat every third
     * of the grace period) until the returned handle is cancelled, so recovery on any node leaves a
     * long upload (a large PDF being embedded) alone while its node is alive.
     */
    long holdLease(IngestOperation op) {
        String incarnation = stores.incarnations().id();
        if (!incarnation.equals(op.incarnation())) {
            // Completed by another node process than the one that recorded it: that process may go
            // away now without its departure making recovery take this upload.
            renewLease(op, uploadHolder(op), incarnation);
        }
        return holdLease(op, uploadHolder(op), incarnation);
    }

    /** The heartbeat of {@link #holdLease(IngestOperation)}, for the lease {@code holder} holds. */
    private long holdLease(IngestOperation op, String holder, String incarnation) {
        long period = Math.max(250, grace.toMillis() / 3);
        return vertx.setPeriodic(
                period, id -> renewLease(op, holder, incarnation).onSuccess(held -> {
                    // A failed renewal (MongoDB briefly away) is tried again next period; only a
                    // lost lease ends the heartbeat.
                    if (!held) {
                        vertx.cancelTimer(id);
                    }
                }));
    }

    private Future<Boolean> renewLease(IngestOperation op, String holder, String incarnation) {
        return stores.operations().renewLease(op.id(), holder, Instant.now().plus(grace), incarnation);
    }

    /** A failed step: the breaker notes it, and it is recorded on the operation (best effort). */
    private void noteFailure(IngestOperation op, Throwable error) {
        breaker.record(error);
        stores.operations().noteError(op.id(), String.valueOf(error.getMessage()));
    }

    /**
     * Runs {@code work} (retried while it fails retriably) and lets the hook see {@code step}, without
     * recording it: for the steps of an upload before its commit, which recovery treats alike.
     */
    Future<IngestOperation> pass(IngestOperation op, Step step, Supplier<Future<?>> work) {
        return retry.run(work::get)
                .compose(done -> hooks.after(op, step))
                .map(done -> op.withStep(step))
                .onFailure(error -> noteFailure(op, error));
    }
}
