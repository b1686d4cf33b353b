package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The ingest operation log (MongoDB {@code ingest_ops} and {@code idempotency_keys}). It needs no
 * multi-document transaction: each call is one single-document write. Futures fail with {@link
 * Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface OperationLog {

    /** Creates the indexes recovery relies on. */
    Future<Void> init();

    /**
     * Records a new operation. With an idempotency key, the key is claimed first: when another
     * operation of the tenant holds it, fails with {@link Failure.Conflict} and writes nothing.
     * Also fails with {@link Failure.Conflict} when another unfinished operation works on the
     * same file.
     */
    Future<Void> begin(IngestOperation op);

    /**
     * Records {@code op} under the idempotency key that already names its id: a begin that claimed the
     * key was cut off before it recorded its operation (its process gone, or the key older than the
     * grace period), and this one takes that operation's id over instead of freeing the key. Should the
     * first begin's write still land, it fails as a duplicate rather than record a second upload under
     * the key; when it landed first, this fails with {@link Failure.Conflict} and writes nothing.
     */
    Future<Void> recordClaimed(IngestOperation op);

    /** The operation holding a tenant's idempotency key, or null. */
    Future<IngestOperation> byIdempotencyKey(String tenantId, String key);

    /**
     * What a tenant's idempotency key names, or null when no operation holds it. {@link #begin} claims
     * the key before it records the operation, so a key may name an operation that is not recorded:
     * its begin is on its way, or it was cut off between the two writes (its process killed, MongoDB
     * lost). {@link KeyHolder#operation()} is null then.
     */
    Future<KeyHolder> keyHolder(String tenantId, String key);

    /**
     * An idempotency key's claim: the operation's id, when and by which node process ({@code
     * incarnation}, null on keys claimed before it was recorded) the key was claimed, and the
     * operation itself, or null when it is not recorded.
     */
    record KeyHolder(String opId, Instant claimedAt, String incarnation, IngestOperation operation) {}

    /**
     * The operation; fails with {@link Failure.NotFound} when there is none. Here and wherever this log
     * hands out an operation to be acted on ({@link #keyHolder}, {@link #take}, {@link #claimStale}), one
     * whose stored document cannot be read ({@link IngestOperation#unreadable}, a field edited by hand)
     * fails with {@link Failure.Conflict} naming it and the field (a claim passes it by); the reads of a
     * file's operations ({@link #openFor}, {@link #openOfFile}, {@link #ofFile}) carry it as read.
     */
    Future<IngestOperation> get(String opId);

    /**
     * The operation on a file that has not ended (a file has at most one), or null; possibly one that
     * cannot be read ({@link IngestOperation#unreadable}): it holds the file all the same.
     */
    Future<IngestOperation> openFor(String fileId);

    /**
     * The committed upload that created the file (its size and sha256 as received), or null: what a
     * repair calls the file's known version. One that cannot be read is no known version: null.
     */
    Future<IngestOperation> uploadOf(String fileId);

    /** Records that {@code step} is done (and the error that stopped the next one, if any). */
    Future<Void> advance(String opId, IngestOperation.Step step, String lastError);

    /**
     * Records the error that stopped the operation's next step, touching it (so recovery leaves it to
     * the node still trying), without changing its step: an operation that ended meanwhile stays ended.
     */
    Future<Void> noteError(String opId, String lastError);

    /**
     * Records {@code step} only while {@code holder} still holds the operation's lease and it has not
     * ended: completes with false, writing nothing, when recovery has claimed it in the meantime.
     */
    Future<Boolean> advanceIfHeld(String opId, IngestOperation.Step step, String holder);

    /**
     * As {@link #advanceIfHeld}, and frees the operation's file in the same write: another operation
     * on the file (a delete, a new version) may begin from then on, while this one only ends. For an
     * upload's commit, after which it writes to no store but the event log and this one.
     */
    Future<Boolean> advanceIfHeldReleasingFile(String opId, IngestOperation.Step step, String holder);

    /**
     * Records that the client of unfinished operation {@code opId} was answered 202 {@code completing}
     * ({@link IngestOperation#PROMISED_AT}), only while {@code holder} holds it: completes with false,
     * writing nothing, when it has ended or another holds it (recovery claimed it).
     */
    Future<Boolean> promise(String opId, String holder);

    /**
     * Extends the lease {@code holder} holds on an unfinished operation to {@code until} (a
     * heartbeat) and records {@code incarnation} as the node process working on it; completes with
     * false when it no longer holds it.
     */
    Future<Boolean> renewLease(String opId, String holder, Instant until, String incarnation);

    /**
     * Takes unfinished operation {@code opId} for {@code holder} until {@code until}, with {@code
     * incarnation} as the node process working on it: when {@code holder} holds it already, or nobody's
     * lease runs now. One atomic find-and-modify, like {@link #claimStale}: a flow's own retry and
     * recovery never work the same operation at once. Completes with the operation as taken, or null
     * when another holds it (recovery claimed it) or it has ended.
     */
    Future<IngestOperation> take(String opId, String holder, Instant until, String incarnation);

    /**
     * Claims one unfinished operation that is either held by one of the {@code goneIncarnations}
     * (whatever its lease) or last touched before {@code olderThan} with its lease (if any) run out:
     * sets its lease to {@code owner} for {@code lease} and its incarnation to {@code incarnation}.
     * The claim itself is one atomic find-and-modify that checks claimability again, so two nodes
     * never hold the same operation. Completes with null when there is none to claim.
     */
    Future<IngestOperation> claimStale(
            String owner, String incarnation, Instant olderThan, Duration lease, Collection<String> goneIncarnations);

    /** The incarnations named on unfinished operations. */
    Future<List<String>> openIncarnations();

    /**
     * Frees a tenant's idempotency key (after an upload was undone, or its operation was never
     * recorded) so a retry can start afresh; only while the key still names {@code opId}, so a key
     * a retry has claimed since is never freed under it.
     */
    Future<Void> releaseKey(String tenantId, String key, String opId);

    /** How many operations have not ended: of one tenant, or of all when {@code tenantId} is null. */
    Future<Long> countOpen(String tenantId);

    /**
     * Retention: removes operations that ended before {@code before}, and the idempotency keys made
     * before it whose operation is not unfinished; completes with how many operations and keys.
     */
    Future<Long> removeEnded(Instant before);

    /**
     * The files of one (tenant, partition) an upload, delete or new version is writing, or was writing
     * at or after {@code since}: those with an unfinished operation (committed uploads whose end is
     * not recorded yet among them), and those whose operation ended at or after {@code since}. What a
     * scan must not judge from a look taken since then. Two queries, both on the index of unfinished
     * operations by age ({@code terminal}, {@code updatedAt}): they read the unfinished operations and
     * those that ended since {@code since}, not the whole log.
     */
    Future<Set<String>> filesInFlight(String tenantId, int partition, Instant since);

    /** Of {@code fileIds}, those with an unfinished operation. */
    Future<Set<String>> openAmong(List<String> fileIds);

    /**
     * Of {@code fileIds}, those whose upload has not committed: their record (and points) may be
     * written already, but an undo can still remove them, so no reader other than the upload may see
     * the file yet. One lookup on the index of open files (a commit frees its file).
     */
    Future<Set<String>> uploading(List<String> fileIds);

    /** An operation of the file that has not ended (the oldest such), or null; possibly one that cannot be read. */
    Future<IngestOperation> openOfFile(String fileId);

    /**
     * Every upload and delete operation of one file still kept, oldest first; those that cannot be read
     * ({@link IngestOperation#unreadable}) among them, first when their date is what cannot be read.
     */
    Future<List<IngestOperation>> ofFile(String fileId);
}
