package io.trisync.repair;

import io.trisync.repair.RepairMessages.ReindexDone;
import io.trisync.store.FileRecord;
import io.trisync.store.ReindexCheckpoints;
import io.trisync.store.ReindexCheckpoints.Checkpoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a re-index run tells in its progress and result, over the whole tenant: what the runs it goes
 * on from did (their checkpoints count it, {@link #before}), the files its scope still held when it
 * started ({@code toDo}), and what it does itself ({@link #thisRun}). A resumed re-index reports
 * cumulative figures, as a job resumed from a checkpoint carries its progress on, and says which runs
 * it went on from ({@link #resumedFrom}). Files re-embedded and files left out are counted apart, both
 * as dealt with. Pure; used on the run's own context.
 */
final class ReindexTally {

    private final ReindexDone before;
    private final List<String> resumedFrom;
    private final long toDo;
    private ReindexDone thisRun = ReindexDone.NONE;
    private boolean settled;

    private ReindexTally(ReindexDone before, List<String> resumedFrom, long toDo) {
        this.before = before;
        this.resumedFrom = resumedFrom;
        this.toDo = toDo;
    }

    /** A run that goes on from {@code resumed} (the tenant's checkpoints it resumes) with {@code toDo} files left to deal with. */
    static ReindexTally of(Collection<Checkpoint> resumed, long toDo) {
        ReindexDone before = ReindexDone.NONE;
        Set<String> runs = new LinkedHashSet<>();
        List<Checkpoint> inOrder = new ArrayList<>(resumed);
        inOrder.sort(Comparator.comparingInt(Checkpoint::partition));
        for (Checkpoint c : inOrder) {
            before = before.plus(ReindexDone.of(c), 0);
            runs.addAll(c.runs());
        }
        return new ReindexTally(before, List.copyOf(runs), toDo);
    }

    /**
     * Whether {@code r} lies ahead of its partition's checkpoint {@code c} (null: none to resume), so
     * a run that resumes there still deals with it. Ids are ASCII ({@link io.trisync.store.Ids}), so
     * Java's order is MongoDB's.
     */
    static boolean ahead(FileRecord r, Checkpoint c) {
        return c == null || (!c.done() && (c.lastFileId() == null || r.id().compareTo(c.lastFileId()) > 0));
    }

    /**
     * {@code c} with its pending batch settled: of its files as they are now ({@code now}), those made
     * by {@code modelName} were re-embedded by the run that wrote it after its last checkpoint, and
     * are counted as done before; a run over only another model's files passes them over. Over
     * {@code all} files they are re-embedded again and counted then, so {@code c} is kept as it is.
     */
    static Checkpoint settle(Checkpoint c, List<FileRecord> now, String modelName) {
        if (c.pending().isEmpty() || c.all()) {
            return c;
        }
        Set<String> pending = Set.copyOf(c.pending());
        long files = 0;
        long chunks = 0;
        for (FileRecord r : now) {
            FileRecord.Embedding e = r.embedding();
            if (pending.contains(r.id())
                    && r.status() == FileRecord.Status.ACTIVE
                    && e != null
                    && !e.pending()
                    && e.failure() == null
                    && modelName.equals(e.model())) {
                files++;
                chunks += e.chunks();
            }
        }
        return new Checkpoint(
                c.tenantId(),
                c.partition(),
                c.model(),
                c.all(),
                c.lastFileId(),
                c.done(),
                c.files() + files,
                c.chunks() + chunks,
                c.skipped(),
                c.skippedFiles(),
                c.runs(),
                List.of());
    }

    /** Adds a batch this run did; false (and nothing added) once the run's work is {@link #settle}d. */
    boolean add(ReindexDone batch) {
        if (settled) {
            return false;
        }
        thisRun = thisRun.plus(batch, 0);
        return true;
    }

    /**
     * This run's work as its partitions answered it, at its end: a batch's report may come after its
     * partition's answer, and is not added then.
     */
    void settle(ReindexDone run) {
        thisRun = run;
        settled = true;
    }

    /**
     * This run's work read from the tenant's checkpoints at its end ({@code counted}: their sum, each
     * counting every run's work in its partition), less what the earlier runs did. So a partition a
     * node began and another finished (the first left the cluster part way, and the second went on
     * from its checkpoint) counts both nodes' batches, which the second's answer alone does not.
     */
    void settleFromCheckpoints(ReindexDone counted, int batchSize) {
        List<ReindexCheckpoints.Skipped> mine = new ArrayList<>(counted.skippedFiles());
        mine.removeAll(before.skippedFiles());
        settle(new ReindexDone(
                counted.files() - before.files(),
                counted.chunks() - before.chunks(),
                counted.skipped() - before.skipped(),
                mine,
                batchSize));
    }

    /** What the earlier runs did. */
    ReindexDone before() {
        return before;
    }

    ReindexDone thisRun() {
        return thisRun;
    }

    /** The whole tenant's: the earlier runs' and this one's. */
    ReindexDone all() {
        return before.plus(thisRun, thisRun.batchSize());
    }

    /** The operations whose checkpoints this run goes on from (none: it started from the beginning). */
    List<String> resumedFrom() {
        return resumedFrom;
    }

    /**
     * The files the whole re-index deals with: those the earlier runs did, and those this run's scope
     * held when it started; more once it has dealt with more (files written meanwhile in its scope).
     */
    long total() {
        return Math.max(before.dealtWith() + toDo, all().dealtWith());
    }
}
