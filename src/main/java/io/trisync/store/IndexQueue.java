package io.trisync.store;

import io.vertx.core.Future;
import java.time.Instant;
import java.util.Set;

/** The durable queue of files whose vectors are still to be made ({@link IndexJob}). */
public interface IndexQueue {

    Future<Void> init();

    /** Adds (or replaces) the job of its file. */
    Future<Void> enqueue(IndexJob job);

    /** Takes one job that is due at {@code now} and held by nobody, for {@code holder} until {@code until}; null when none. */
    Future<IndexJob> claimDue(String holder, Instant now, Instant until);

    /**
     * Extends {@code holder}'s lease of the file's job to {@code until}, as a worker still making its
     * vectors does; completes with whether it still held it (false: it ran out and another took it).
     */
    Future<Boolean> renew(String fileId, String holder, Instant until);

    /** Gives a job back after a failed attempt: one more attempt counted, due again at {@code next}. */
    Future<Void> retryLater(String fileId, String holder, Instant next, String error);

    /** Gives a job back untried, due again at {@code next}: no attempt is counted. */
    Future<Void> putOff(String fileId, String holder, Instant next);

    /** The holders of the jobs leased now (their leases not run out at {@code now}). */
    Future<Set<String>> holders(Instant now);

    /** Ends every lease {@code holder} has, so any worker may take its jobs at once; how many. */
    Future<Long> release(String holder);

    /** The file's job, or null when it has none. */
    Future<IndexJob> get(String fileId);

    /** Removes the file's job (its vectors are written, its indexing failed for good, or the file is gone). */
    Future<Void> remove(String fileId);

    /** The files of one (tenant, partition) that have a job. */
    Future<Set<String>> filesIn(String tenantId, int partition);

    /** How many of the tenant's files wait for their vectors, and how many of those are being made now. */
    Future<Counts> count(String tenantId, Instant now);

    record Counts(long pending, long processing) {}
}
