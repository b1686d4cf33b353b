package io.trisync.repair;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.repair.RepairMessages.ReindexDone;
import io.trisync.store.FileRecord;
import io.trisync.store.ReindexCheckpoints;
import io.trisync.store.ReindexCheckpoints.Checkpoint;
import io.trisync.store.ReindexCheckpoints.Skipped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReindexTallyTest {

    private static Checkpoint checkpoint(int partition, String last, long files, long skipped, List<String> runs) {
        List<Skipped> ids = new ArrayList<>();
        for (int i = 0; i < skipped; i++) {
            ids.add(new Skipped("gone-" + partition + "-" + i, Skipped.CONTENT_MISSING));
        }
        return new Checkpoint("t", partition, "m@384", false, last, false, files, files * 2, skipped, ids, runs, null);
    }

    private static FileRecord file(String id, String model) {
        return new FileRecord(
                id,
                "t",
                "a.txt",
                "text/plain",
                10,
                "sha",
                FileRecord.Status.ACTIVE,
                1,
                0,
                new FileRecord.Embedding(model, 384, 3, "sha"),
                Instant.EPOCH,
                Instant.EPOCH,
                null);
    }

    @Test
    @DisplayName("A resumed run counts the earlier runs' files with its own, re-embedded and skipped apart")
    void cumulative() {
        ReindexTally tally = ReindexTally.of(
                List.of(checkpoint(1, "f5", 5, 1, List.of("op-a", "op-b")), checkpoint(0, "f3", 3, 0, List.of("op-a"))),
                10);
        assertThat(tally.resumedFrom()).containsExactly("op-a", "op-b");
        assertThat(tally.total()).as("earlier 9 dealt with, 10 to do").isEqualTo(19);
        tally.add(new ReindexDone(4, 8, 1, List.of(new Skipped("x", Skipped.REFUSED)), 8));
        assertThat(tally.all().files()).isEqualTo(12);
        assertThat(tally.all().skipped()).isEqualTo(2);
        assertThat(tally.all().dealtWith()).isEqualTo(14);
        assertThat(tally.thisRun().files()).isEqualTo(4);
        assertThat(tally.all().skippedFiles()).extracting(Skipped::fileId).containsExactly("gone-1-0", "x");
        tally.settle(new ReindexDone(9, 18, 1, List.of(new Skipped("x", Skipped.REFUSED)), 8));
        assertThat(tally.all().dealtWith()).isEqualTo(19);
        assertThat(tally.add(new ReindexDone(1, 1, 0, List.of(), 8)))
                .as("a batch's report after the partitions answered is counted already")
                .isFalse();
        assertThat(tally.all().dealtWith()).isEqualTo(19);
        tally.settle(new ReindexDone(11, 22, 1, List.of(), 8));
        assertThat(tally.total()).as("files written meanwhile in the scope").isEqualTo(21);
    }

    @Test
    @DisplayName("A run that resumes nothing counts only its own")
    void fresh() {
        ReindexTally tally = ReindexTally.of(List.of(), 4);
        assertThat(tally.resumedFrom()).isEmpty();
        assertThat(tally.total()).isEqualTo(4);
        tally.add(new ReindexDone(3, 3, 1, List.of(new Skipped("lost", Skipped.CONTENT_MISSING)), 8));
        assertThat(tally.all().dealtWith()).isEqualTo(tally.total());
    }

    @Test
    @DisplayName("Skipped files are kept by id up to the cap; the count goes on")
    void capped() {
        ReindexDone sum = ReindexDone.NONE;
        for (int i = 0; i < 150; i++) {
            sum = sum.plus(ReindexDone.skipping(List.of(new Skipped("f" + i, Skipped.CHANGED))), 0);
        }
        assertThat(sum.skipped()).isEqualTo(150);
        assertThat(sum.skippedFiles()).hasSize(ReindexCheckpoints.SKIPPED_KEPT);
        assertThat(ReindexDone.fromJson(sum.toJson())).isEqualTo(sum);
    }

    @Test
    @DisplayName("Only files ahead of their partition's checkpoint are still to do")
    void ahead() {
        Checkpoint c = checkpoint(0, "f5", 5, 0, List.of("op-a"));
        assertThat(ReindexTally.ahead(file("f6", "old"), c)).isTrue();
        assertThat(ReindexTally.ahead(file("f5", "old"), c)).isFalse();
        assertThat(ReindexTally.ahead(file("f1", "old"), null)).isTrue();
        Checkpoint done = new Checkpoint("t", 0, "m@384", false, "f5", true, 5, 10, 0, null, null, null);
        assertThat(ReindexTally.ahead(file("f6", "old"), done)).isFalse();
    }

    @Test
    @DisplayName("The pending batch of a killed run: the files it patched count as done before")
    void pendingSettled() {
        Checkpoint c = new Checkpoint(
                "t", 0, "m@384", false, "f2", false, 2, 4, 0, null, List.of("op-a"), List.of("f3", "f4", "f5"));
        Checkpoint settled = ReindexTally.settle(c, List.of(file("f3", "m@384"), file("f4", "old@384")), "m@384");
        assertThat(settled.files()).isEqualTo(3);
        assertThat(settled.chunks()).isEqualTo(7);
        assertThat(settled.pending()).isEmpty();
        Checkpoint all = new Checkpoint("t", 0, "m@384", true, "f2", false, 2, 4, 0, null, null, List.of("f3"));
        assertThat(ReindexTally.settle(all, List.of(file("f3", "m@384")), "m@384"))
                .as("over all files they are re-embedded again, and counted then")
                .isEqualTo(all);
    }

    @Test
    @DisplayName("At its end a run counts its work from the checkpoints: a partition begun by a node that left and"
            + " finished by another counts both nodes' batches")
    void thisRunFromCheckpoints() {
        ReindexTally tally = ReindexTally.of(List.of(checkpoint(0, "f3", 3, 1, List.of("op-a"))), 10);
        // Partition 0 went on from op-a's 3 files; partition 1: 4 files by a node that left, then 2
        // more by the node that took it over from its checkpoint (whose answer says 2).
        ReindexDone counted = ReindexDone.of(checkpoint(0, "f9", 7, 1, List.of("op-a", "op-b")))
                .plus(ReindexDone.of(checkpoint(1, "g6", 6, 1, List.of("op-b"))), 0);
        tally.settleFromCheckpoints(counted, 16);
        assertThat(tally.thisRun().files()).as("4 + 6, not the answers' 4 + 2").isEqualTo(10);
        assertThat(tally.thisRun().chunks()).isEqualTo(20);
        assertThat(tally.thisRun().skipped()).isEqualTo(1);
        assertThat(tally.thisRun().skippedFiles()).extracting(Skipped::fileId).containsExactly("gone-1-0");
        assertThat(tally.thisRun().batchSize()).isEqualTo(16);
        assertThat(tally.all().files()).isEqualTo(13);
        assertThat(tally.all().dealtWith()).isEqualTo(15);
        assertThat(tally.all().skippedFiles()).extracting(Skipped::fileId).containsExactly("gone-0-0", "gone-1-0");
    }
}
