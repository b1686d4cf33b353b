package io.trisync.ingest;

import io.trisync.embedding.ContentIndexer;
import io.trisync.store.FileRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upload's chunk points and file record, written while its blob is on its way to S3 (issue 24),
 * so that once S3 has the blob only the commit and the events are left. The recording step starts
 * them when the receiving node lent it the body in memory (the same process, {@link HeldBodies}),
 * as soon as the operation is recorded: the uploads one begin batch recorded start in one turn, so
 * they are indexed together and their points and records share round trips, as a cohort's would.
 * The completing step of the same process then {@link #take}s what was written instead of indexing
 * and writing again. A completing step on another node writes them again (the same point
 * ids, the same record): the same outcome, only later.
 *
 * <p>What is written ahead is an uncommitted upload's, as the completing step's own writes were: an
 * upload that fails is undone (its record, points and blob removed), now or by recovery. The
 * receiving node waits for the writes to end before it asks for the completion or the undo, so no
 * write ahead lands after an undo. The record carries the ETag S3 gives an object put in one piece
 * without customer or KMS keys (the MD5 of its bytes in quotes); when the put answers another, the
 * completing step writes the record again with it. One per Vert.x instance ({@link #of}).
 */
final class WrittenAhead implements Shareable {

    /** What was written ahead for one upload: its content as indexed, and its record as written. */
    record Ahead(ContentIndexer.Indexed indexed, FileRecord record) {}

    private final Map<String, Future<Ahead>> started = new ConcurrentHashMap<>();
    private final AtomicLong taken = new AtomicLong();

    private WrittenAhead() {}

    /** The one instance of {@code vertx}, made on first use. */
    static WrittenAhead of(Vertx vertx) {
        return vertx.sharedData()
                .<String, WrittenAhead>getLocalMap("trisync.ingest.written-ahead")
                .computeIfAbsent("written-ahead", k -> new WrittenAhead());
    }

    /** Operation {@code opId}'s points and record are being written ahead: {@code writing}. */
    void started(String opId, Future<Ahead> writing) {
        started.put(opId, writing);
    }

    /**
     * Completes (never fails) once what is written ahead for operation {@code opId} is written or
     * failed; at once when nothing was started in this process.
     */
    Future<Void> settled(String opId) {
        Future<Ahead> writing = started.get(opId);
        return writing == null
                ? Future.succeededFuture()
                : writing.<Void>mapEmpty().otherwiseEmpty();
    }

    /** What was written ahead for operation {@code opId} (null when nothing was started here), taken. */
    Future<Ahead> take(String opId) {
        Future<Ahead> ahead = started.remove(opId);
        if (ahead != null && ahead.succeeded()) {
            taken.incrementAndGet();
        }
        return ahead;
    }

    /** How many completions found their upload's writes done ahead: for the tests and the benchmarks. */
    long taken() {
        return taken.get();
    }

    /** Forgets operation {@code opId}'s writes ahead (its completion ran here, elsewhere, or not at all). */
    void forget(String opId) {
        started.remove(opId);
    }
}
