package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.scan.Listings.Blob;
import io.trisync.scan.Listings.Meta;
import io.trisync.scan.Listings.Partition;
import io.trisync.scan.Listings.Point;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReconcilerTest {

    private static final String SHA = "a".repeat(64);
    private static final String MODEL = "m";
    private final Reconciler engine = new Reconciler();

    private static Meta active(String id, int chunks) {
        return new Meta(id, id + ".txt", false, 10, SHA, chunks, SHA, MODEL);
    }

    /** An active file whose text extraction failed at ingest: zero chunks and the reason recorded. */
    private static Meta extractionFailed(String id) {
        return new Meta(id, id + ".pdf", false, 10, SHA, 0, SHA, MODEL, null, "PDFBox cannot read the PDF: broken");
    }

    private static Blob blob(String id) {
        return new Blob(id, 10, SHA);
    }

    private static List<Point> points(String id, int chunks) {
        List<Point> out = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            out.add(new Point(id, c, SHA, MODEL));
        }
        return out;
    }

    private FileReport one(List<Meta> metas, List<Blob> blobs, List<Point> points) {
        List<FileReport> reports = engine.reconcile(new Partition(metas, blobs, points));
        assertThat(reports).hasSize(1);
        return reports.get(0);
    }

    private static Set<IssueType> types(FileReport r) {
        Set<IssueType> out = EnumSet.noneOf(IssueType.class);
        r.issues().forEach(i -> out.add(i.type()));
        return out;
    }

    /** Every combination of present/absent across the three stores, for an active and a deleted record. */
    static Stream<Arguments> presence() {
        return Stream.of(
                Arguments.of("active", true, true, true, Set.of(), Verdict.SYNCED),
                Arguments.of("active", true, true, false, Set.of(IssueType.MISSING_VECTORS), Verdict.MISSING),
                Arguments.of("active", true, false, true, Set.of(IssueType.MISSING_BLOB), Verdict.MISSING),
                Arguments.of(
                        "active",
                        true,
                        false,
                        false,
                        Set.of(IssueType.MISSING_BLOB, IssueType.MISSING_VECTORS),
                        Verdict.MISSING),
                Arguments.of(
                        "none",
                        false,
                        true,
                        true,
                        Set.of(IssueType.ORPHAN_BLOB, IssueType.ORPHAN_VECTORS),
                        Verdict.MISSING),
                Arguments.of("none", false, true, false, Set.of(IssueType.ORPHAN_BLOB), Verdict.MISSING),
                Arguments.of("none", false, false, true, Set.of(IssueType.ORPHAN_VECTORS), Verdict.MISSING),
                Arguments.of("deleted", true, false, false, Set.of(), Verdict.SYNCED),
                Arguments.of("deleted", true, true, false, Set.of(IssueType.DELETE_INCOMPLETE), Verdict.OUT_OF_SYNC),
                Arguments.of("deleted", true, false, true, Set.of(IssueType.DELETE_INCOMPLETE), Verdict.OUT_OF_SYNC),
                Arguments.of("deleted", true, true, true, Set.of(IssueType.DELETE_INCOMPLETE), Verdict.OUT_OF_SYNC));
    }

    @ParameterizedTest(name = "{0} record, mongo={1} s3={2} qdrant={3} -> {4}")
    @MethodSource("presence")
    @DisplayName("Every combination of presence across the three stores")
    void presenceCombinations(
            String kind, boolean mongo, boolean s3, boolean qdrant, Set<IssueType> expected, Verdict verdict) {
        String id = "f1";
        List<Meta> metas = !mongo
                ? List.of()
                : List.of(
                        kind.equals("deleted") ? new Meta(id, "f1.txt", true, 10, SHA, 2, SHA, MODEL) : active(id, 2));
        FileReport r = one(metas, s3 ? List.of(blob(id)) : List.of(), qdrant ? points(id, 2) : List.of());
        assertThat(types(r)).isEqualTo(expected);
        assertThat(r.verdict()).isEqualTo(verdict);
        assertThat(List.of(r.inMongo(), r.inS3(), r.inQdrant())).containsExactly(mongo, s3, qdrant);
    }

    @Test
    @DisplayName(
            "During a change of model a file of the new model is judged by its points, any other by the serving collection's")
    void modelChangeCopies() {
        String retiring = "old";
        Reconciler current = new Reconciler(MODEL);
        List<Point> both = new ArrayList<>(points("f", 2));
        both.add(new Point("f", 0, SHA, retiring));
        both.add(new Point("f", 1, SHA, retiring));
        both.add(new Point("f", 2, SHA, retiring));
        // Re-embedded: the retiring copy (three chunks of the old text) is not an extra chunk.
        FileReport done = current.reconcile(new Partition(List.of(active("f", 2)), List.of(blob("f")), both), MODEL)
                .get(0);
        assertThat(done.issues()).isEmpty();
        // Not yet re-embedded: judged by the retiring copy alone, stale for the current model.
        Meta old = new Meta("f", "f.txt", false, 10, SHA, 3, SHA, retiring);
        FileReport waiting = current.reconcile(new Partition(List.of(old), List.of(blob("f")), both), MODEL)
                .get(0);
        assertThat(types(waiting)).containsExactly(IssueType.STALE_VECTORS);
        // Points of a third model an earlier change in place left in the serving collection: the
        // re-embedded file is judged by the new copy alone.
        List<Point> legacy = new ArrayList<>(points("f", 2));
        legacy.add(new Point("f", 0, SHA, "older"));
        legacy.add(new Point("f", 1, SHA, "older"));
        assertThat(current.reconcile(new Partition(List.of(active("f", 2)), List.of(blob("f")), legacy), MODEL)
                        .get(0)
                        .issues())
                .isEmpty();
        // Without a change under way, the same points are extra chunks of another model.
        assertThat(types(current.reconcile(new Partition(List.of(active("f", 2)), List.of(blob("f")), both))
                        .get(0)))
                .contains(IssueType.EXTRA_CHUNKS, IssueType.STALE_VECTORS);
        // A file without a record: every point of either collection is an orphan.
        FileReport orphan = current.reconcile(new Partition(List.of(), List.of(), both), MODEL)
                .get(0);
        assertThat(orphan.issues().get(0).details().getInteger("points")).isEqualTo(5);
    }

    @Test
    @DisplayName("Size and checksum mismatches; an unknown checksum is not a mismatch")
    void contentMismatches() {
        FileReport size = one(List.of(active("f", 1)), List.of(new Blob("f", 11, SHA)), points("f", 1));
        assertThat(types(size)).containsExactly(IssueType.SIZE_MISMATCH);
        assertThat(size.verdict()).isEqualTo(Verdict.OUT_OF_SYNC);
        assertThat(size.issues().get(0).details().getLong("actual")).isEqualTo(11);
        FileReport sum = one(List.of(active("f", 1)), List.of(new Blob("f", 10, "b".repeat(64))), points("f", 1));
        assertThat(types(sum)).containsExactly(IssueType.CHECKSUM_MISMATCH);
        FileReport unknown = one(List.of(active("f", 1)), List.of(new Blob("f", 10, null)), points("f", 1));
        assertThat(types(unknown)).isEmpty();
    }

    @Test
    @DisplayName("Missing and extra chunks are reported with their numbers")
    void chunkCounts() {
        List<Point> some = new ArrayList<>(points("f", 5));
        some.remove(3);
        some.remove(1);
        FileReport missing = one(List.of(active("f", 5)), List.of(blob("f")), some);
        assertThat(types(missing)).containsExactly(IssueType.MISSING_CHUNKS);
        assertThat(missing.issues().get(0).details().getJsonArray("chunks").getList())
                .containsExactly(1, 3);
        assertThat(missing.verdict()).isEqualTo(Verdict.MISSING);
        FileReport extra = one(List.of(active("f", 2)), List.of(blob("f")), points("f", 4));
        assertThat(types(extra)).containsExactly(IssueType.EXTRA_CHUNKS);
        assertThat(extra.issues().get(0).details().getJsonArray("chunks").getList())
                .containsExactly(2, 3);
        FileReport none = one(List.of(active("f", 0)), List.of(blob("f")), List.of());
        assertThat(none.verdict())
                .as("a file without text is synced with zero chunks")
                .isEqualTo(Verdict.SYNCED);
    }

    @Test
    @DisplayName("An active file whose text extraction failed is an error with the reason, never synced")
    void extractionFailureIsAnError() {
        FileReport failed = one(List.of(extractionFailed("f")), List.of(blob("f")), List.of());
        assertThat(types(failed)).containsExactly(IssueType.EMBEDDING_FAILED);
        assertThat(failed.verdict()).isEqualTo(Verdict.ERROR);
        assertThat(failed.issues().get(0).details().getString("reason"))
                .isEqualTo("PDFBox cannot read the PDF: broken");
        assertThat(failed.issues().get(0).fileName()).isEqualTo("f.pdf");

        FileReport alsoLost = one(List.of(extractionFailed("f")), List.of(), List.of());
        assertThat(types(alsoLost)).containsExactlyInAnyOrder(IssueType.EMBEDDING_FAILED, IssueType.MISSING_BLOB);
        assertThat(alsoLost.verdict())
                .as("a person is needed whatever else is wrong")
                .isEqualTo(Verdict.ERROR);

        Meta deleted = new Meta("f", "f.pdf", true, 10, SHA, 0, SHA, MODEL, null, "PDFBox cannot read the PDF: broken");
        FileReport gone = one(List.of(deleted), List.of(), List.of());
        assertThat(gone.issues()).as("a deleted file needs no search").isEmpty();
        assertThat(gone.verdict()).isEqualTo(Verdict.SYNCED);
    }

    @Test
    @DisplayName("Vectors of other content or another model are stale")
    void staleVectors() {
        List<Point> otherContent = List.of(new Point("f", 0, "c".repeat(64), MODEL));
        assertThat(types(one(List.of(active("f", 1)), List.of(blob("f")), otherContent)))
                .containsExactly(IssueType.STALE_VECTORS);
        List<Point> otherModel = List.of(new Point("f", 0, SHA, "older-model"));
        assertThat(types(one(List.of(active("f", 1)), List.of(blob("f")), otherModel)))
                .containsExactly(IssueType.STALE_VECTORS);
        Meta recordedOld = new Meta("f", "f.txt", false, 10, SHA, 1, "d".repeat(64), MODEL);
        assertThat(types(one(List.of(recordedOld), List.of(blob("f")), points("f", 1))))
                .containsExactly(IssueType.STALE_VECTORS);
    }

    @Test
    @DisplayName(
            "A file embedded with another model than the one in use now is stale; with the same model it is synced")
    void modelChanged() {
        Partition partition = new Partition(List.of(active("f", 2)), List.of(blob("f")), points("f", 2));
        FileReport changed =
                new Reconciler("new-model@384").reconcile(partition).get(0);
        assertThat(types(changed)).containsExactly(IssueType.STALE_VECTORS);
        assertThat(changed.issues().get(0).details().getString("currentModel")).isEqualTo("new-model@384");
        assertThat(new Reconciler(MODEL).reconcile(partition).get(0).verdict()).isEqualTo(Verdict.SYNCED);
        Partition noText = new Partition(List.of(active("g", 0)), List.of(blob("g")), List.of());
        assertThat(types(new Reconciler("new-model@384").reconcile(noText).get(0)))
                .as("a file without chunks has no vectors to be stale")
                .isEmpty();
    }

    @Test
    @DisplayName("Unicode file ids are reconciled like any other, in id order")
    void unicodeIds() {
        List<FileReport> reports = engine.reconcile(new Partition(
                List.of(active("ä-文件-🙂", 1), active("a", 1)),
                List.of(blob("ä-文件-🙂"), blob("a")),
                points("ä-文件-🙂", 1)));
        assertThat(reports).extracting(FileReport::fileId).containsExactly("a", "ä-文件-🙂");
        assertThat(reports.get(1).verdict()).isEqualTo(Verdict.SYNCED);
        assertThat(types(reports.get(0))).containsExactly(IssueType.MISSING_VECTORS);
    }

    @Test
    @DisplayName("Property: random faults injected into a consistent partition are reported exactly")
    void randomFaultsAreReportedExactly() {
        Random random = new Random(20261123);
        for (int round = 0; round < 200; round++) {
            List<Meta> metas = new ArrayList<>();
            List<Blob> blobs = new ArrayList<>();
            List<Point> points = new ArrayList<>();
            Map<String, Set<IssueType>> expected = new HashMap<>();
            int files = 1 + random.nextInt(40);
            for (int f = 0; f < files; f++) {
                String id = "r" + round + "-f" + f;
                int chunks = random.nextInt(5);
                IssueType fault = random.nextInt(3) == 0 ? null : pick(random, chunks);
                inject(id, chunks, fault, metas, blobs, points);
                expected.put(id, fault == null ? Set.of() : Set.of(fault));
            }
            List<FileReport> reports = engine.reconcile(new Partition(metas, blobs, points));
            Map<String, Set<IssueType>> actual = new HashMap<>();
            reports.forEach(r -> actual.put(r.fileId(), types(r)));
            assertThat(actual).as("round %d", round).isEqualTo(expected);
        }
    }

    private static IssueType pick(Random random, int chunks) {
        List<IssueType> possible = new ArrayList<>(List.of(
                IssueType.MISSING_BLOB,
                IssueType.SIZE_MISMATCH,
                IssueType.CHECKSUM_MISMATCH,
                IssueType.ORPHAN_BLOB,
                IssueType.DELETE_INCOMPLETE,
                IssueType.EXTRA_CHUNKS));
        if (chunks > 0) {
            possible.addAll(List.of(IssueType.MISSING_VECTORS, IssueType.STALE_VECTORS, IssueType.ORPHAN_VECTORS));
        }
        if (chunks > 1) {
            possible.add(IssueType.MISSING_CHUNKS);
        }
        if (chunks == 0) {
            possible.add(IssueType.EMBEDDING_FAILED);
        }
        return possible.get(random.nextInt(possible.size()));
    }

    /** A consistent file, then one fault. */
    private static void inject(
            String id, int chunks, IssueType fault, List<Meta> metas, List<Blob> blobs, List<Point> points) {
        Set<IssueType> skip = new HashSet<>();
        if (fault == null) {
            metas.add(active(id, chunks));
            blobs.add(blob(id));
            points.addAll(points(id, chunks));
            return;
        }
        skip.add(fault);
        switch (fault) {
            case MISSING_BLOB -> {
                metas.add(active(id, chunks));
                points.addAll(points(id, chunks));
            }
            case MISSING_VECTORS -> {
                metas.add(active(id, chunks));
                blobs.add(blob(id));
            }
            case MISSING_CHUNKS -> {
                metas.add(active(id, chunks));
                blobs.add(blob(id));
                points.addAll(points(id, chunks).subList(1, chunks));
            }
            case EXTRA_CHUNKS -> {
                metas.add(active(id, chunks));
                blobs.add(blob(id));
                points.addAll(points(id, chunks + 1));
            }
            case SIZE_MISMATCH -> {
                metas.add(active(id, chunks));
                blobs.add(new Blob(id, 99, SHA));
                points.addAll(points(id, chunks));
            }
            case CHECKSUM_MISMATCH -> {
                metas.add(active(id, chunks));
                blobs.add(new Blob(id, 10, "e".repeat(64)));
                points.addAll(points(id, chunks));
            }
            case STALE_VECTORS -> {
                metas.add(active(id, chunks));
                blobs.add(blob(id));
                points(id, chunks).forEach(p -> points.add(new Point(id, p.chunk(), SHA, "old-model")));
            }
            case ORPHAN_BLOB -> blobs.add(blob(id));
            case ORPHAN_VECTORS -> points.addAll(points(id, chunks));
            case DELETE_INCOMPLETE -> {
                metas.add(new Meta(id, id, true, 10, SHA, chunks, SHA, MODEL));
                blobs.add(blob(id));
            }
            case EMBEDDING_FAILED -> {
                metas.add(extractionFailed(id));
                blobs.add(blob(id));
            }
        }
    }

    @Test
    @DisplayName("An unreadable record is one UNREADABLE_RECORD naming the field: its blob and points are not orphans")
    void unreadableRecord() {
        FileReport r = one(List.of(Meta.unreadable("f", "f.txt", "status")), List.of(blob("f")), points("f", 2));
        assertThat(types(r)).containsExactly(IssueType.UNREADABLE_RECORD);
        assertThat(r.issues().get(0).details().getString("field")).isEqualTo("status");
        assertThat(r.verdict()).isEqualTo(Verdict.ERROR);
        assertThat(r.active()).isFalse();
    }
}
