package io.trisync.repair;

import static io.trisync.scan.IssueType.CHECKSUM_MISMATCH;
import static io.trisync.scan.IssueType.DELETE_INCOMPLETE;
import static io.trisync.scan.IssueType.EMBEDDING_FAILED;
import static io.trisync.scan.IssueType.EXTRA_CHUNKS;
import static io.trisync.scan.IssueType.MISSING_BLOB;
import static io.trisync.scan.IssueType.MISSING_CHUNKS;
import static io.trisync.scan.IssueType.MISSING_VECTORS;
import static io.trisync.scan.IssueType.ORPHAN_BLOB;
import static io.trisync.scan.IssueType.ORPHAN_VECTORS;
import static io.trisync.scan.IssueType.SIZE_MISMATCH;
import static io.trisync.scan.IssueType.STALE_VECTORS;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.repair.RepairPlanner.OpenIssue;
import io.trisync.repair.RepairPlanner.Selection;
import io.trisync.scan.DeleteLeftovers;
import io.trisync.scan.IssueType;
import io.trisync.scan.LostRecord;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RepairPlannerTest {

    private static OpenIssue issue(String file, IssueType type) {
        return issue(file, type, new JsonObject());
    }

    private static OpenIssue issue(String file, IssueType type, JsonObject details) {
        return new OpenIssue("t", 3, id(file), file + ".txt", type, details);
    }

    /**
     * A file id of the form trisync writes standing for {@code name} (at most 16 characters): its
     * bytes in hex, padded with zeros, so ids sort as their names do and {@link #name} reads it back.
     */
    static String id(String name) {
        String hex =
                (HexFormat.of().formatHex(name.getBytes(StandardCharsets.UTF_8)) + "0".repeat(32)).substring(0, 32);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }

    private static String name(String id) {
        return new String(
                HexFormat.of().parseHex(id.replace("-", "").replaceAll("(00)+$", "")), StandardCharsets.UTF_8);
    }

    /** The plan as "file:ACTION[ISSUE,ISSUE]" strings (the file by the name its id stands for), in order. */
    private static List<String> describe(List<PlannedAction> plan) {
        return plan.stream()
                .map(a -> name(a.fileId()) + ":" + a.action() + a.fixes())
                .toList();
    }

    static Stream<Arguments> singleIssues() {
        return Stream.of(
                Arguments.of(MISSING_VECTORS, new JsonObject(), false, List.of("f:REEMBED[MISSING_VECTORS]")),
                Arguments.of(MISSING_CHUNKS, new JsonObject(), false, List.of("f:REEMBED[MISSING_CHUNKS]")),
                Arguments.of(STALE_VECTORS, new JsonObject(), false, List.of("f:REEMBED[STALE_VECTORS]")),
                Arguments.of(EXTRA_CHUNKS, new JsonObject(), false, List.of("f:DELETE_EXTRA_POINTS[EXTRA_CHUNKS]")),
                Arguments.of(ORPHAN_VECTORS, new JsonObject(), false, List.of("f:DELETE_POINTS[ORPHAN_VECTORS]")),
                Arguments.of(ORPHAN_BLOB, new JsonObject(), false, List.of("f:QUARANTINE_BLOB[ORPHAN_BLOB]")),
                Arguments.of(MISSING_BLOB, new JsonObject(), false, List.of("f:FLAG_FOR_PERSON[MISSING_BLOB]")),
                Arguments.of(MISSING_BLOB, new JsonObject(), true, List.of("f:RESTORE_BLOB[MISSING_BLOB]")),
                Arguments.of(EMBEDDING_FAILED, new JsonObject(), false, List.of("f:FLAG_FOR_PERSON[EMBEDDING_FAILED]")),
                Arguments.of(EMBEDDING_FAILED, new JsonObject(), true, List.of("f:FLAG_FOR_PERSON[EMBEDDING_FAILED]")),
                Arguments.of(SIZE_MISMATCH, new JsonObject(), false, List.of("f:VERIFY_CONTENT[SIZE_MISMATCH]")),
                Arguments.of(
                        CHECKSUM_MISMATCH, new JsonObject(), false, List.of("f:VERIFY_CONTENT[CHECKSUM_MISMATCH]")),
                Arguments.of(
                        DELETE_INCOMPLETE,
                        new JsonObject().put("blob", true).put("points", 3),
                        false,
                        List.of("f:QUARANTINE_BLOB[DELETE_INCOMPLETE]", "f:DELETE_POINTS[DELETE_INCOMPLETE]")),
                Arguments.of(
                        DELETE_INCOMPLETE,
                        new JsonObject().put("blob", false).put("points", 3),
                        false,
                        List.of("f:DELETE_POINTS[DELETE_INCOMPLETE]")),
                Arguments.of(
                        DELETE_INCOMPLETE,
                        new JsonObject().put("blob", true).put("points", 0),
                        false,
                        List.of("f:QUARANTINE_BLOB[DELETE_INCOMPLETE]")),
                // A search's finding: points seen, the blob not looked at.
                Arguments.of(
                        DELETE_INCOMPLETE,
                        new DeleteLeftovers(null, 1).toJson().put("found_by", "search"),
                        false,
                        List.of("f:QUARANTINE_BLOB[DELETE_INCOMPLETE]", "f:DELETE_POINTS[DELETE_INCOMPLETE]")),
                // As earlier versions recorded a search's finding (points: true), still read.
                Arguments.of(
                        DELETE_INCOMPLETE,
                        new JsonObject().put("points", true).put("found_by", "search"),
                        false,
                        List.of("f:QUARANTINE_BLOB[DELETE_INCOMPLETE]", "f:DELETE_POINTS[DELETE_INCOMPLETE]")));
    }

    @ParameterizedTest(name = "{0} (backup {2}) -> {3}")
    @MethodSource("singleIssues")
    @DisplayName("Each issue type maps to its action")
    void eachIssueType(IssueType type, JsonObject details, boolean backup, List<String> expected) {
        List<PlannedAction> plan = new RepairPlanner(backup).plan(List.of(issue("f", type, details)), Selection.ALL);
        assertThat(describe(plan)).containsExactlyElementsOf(expected);
        plan.forEach(a -> {
            assertThat(a.tenantId()).isEqualTo("t");
            assertThat(a.partition()).isEqualTo(3);
            assertThat(a.fileName()).isEqualTo("f.txt");
        });
    }

    @Test
    @DisplayName("Every issue type has a planned action, with or without a backup")
    void noIssueTypeIsLeftOut() {
        for (boolean backup : new boolean[] {false, true}) {
            for (IssueType type : IssueType.values()) {
                assertThat(new RepairPlanner(backup).plan(List.of(issue("f", type)), Selection.ALL))
                        .as(type + " backup=" + backup)
                        .isNotEmpty();
            }
        }
    }

    @Test
    @DisplayName("A file whose record cannot be read is left to a person; nothing else is done to it")
    void unreadableRecordIsLeftToAPerson() {
        List<PlannedAction> plan = new RepairPlanner(true)
                .plan(
                        List.of(
                                issue("f", IssueType.UNREADABLE_RECORD, new JsonObject().put("field", "status")),
                                issue("f", ORPHAN_VECTORS),
                                issue("f", MISSING_BLOB)),
                        Selection.ALL);
        assertThat(describe(plan)).containsExactly("f:FLAG_FOR_PERSON[UNREADABLE_RECORD]");
    }

    @Test
    @DisplayName("One re-embed fixes missing, stale and extra chunks of a file together")
    void reembedMerges() {
        List<PlannedAction> plan = new RepairPlanner(false)
                .plan(
                        List.of(issue("f", STALE_VECTORS), issue("f", MISSING_CHUNKS), issue("f", EXTRA_CHUNKS)),
                        Selection.ALL);
        assertThat(plan).hasSize(1);
        assertThat(plan.get(0).action()).isEqualTo(RepairAction.REEMBED);
        assertThat(plan.get(0).fixes()).containsExactlyInAnyOrder(STALE_VECTORS, MISSING_CHUNKS, EXTRA_CHUNKS);
    }

    @Test
    @DisplayName("Content comes before vectors; lost content is not re-embedded; an orphan pair gets both actions")
    void ordering() {
        List<OpenIssue> issues = List.of(
                issue("b", ORPHAN_VECTORS),
                issue("b", ORPHAN_BLOB),
                issue("a", MISSING_VECTORS),
                issue("a", MISSING_BLOB),
                issue("c", SIZE_MISMATCH),
                issue("c", CHECKSUM_MISMATCH),
                issue("c", STALE_VECTORS));
        assertThat(describe(new RepairPlanner(false).plan(issues, Selection.ALL)))
                .containsExactly(
                        "a:FLAG_FOR_PERSON[MISSING_BLOB]",
                        "b:QUARANTINE_BLOB[ORPHAN_BLOB]",
                        "b:DELETE_POINTS[ORPHAN_VECTORS]",
                        "c:VERIFY_CONTENT[SIZE_MISMATCH, CHECKSUM_MISMATCH]",
                        "c:REEMBED[STALE_VECTORS]");
        assertThat(describe(new RepairPlanner(true).plan(issues.subList(2, 4), Selection.ALL)))
                .containsExactly("a:RESTORE_BLOB[MISSING_BLOB]", "a:REEMBED[MISSING_VECTORS]");
    }

    @Test
    @DisplayName("A failed text extraction is left to a person, never re-embedded nor auto-repaired")
    void extractionFailureIsLeftToAPerson() {
        RepairPlanner planner = new RepairPlanner(false);
        assertThat(describe(
                        planner.plan(List.of(issue("f", EMBEDDING_FAILED), issue("f", MISSING_BLOB)), Selection.ALL)))
                .as("one flag for everything the person must look at")
                .containsExactly("f:FLAG_FOR_PERSON[MISSING_BLOB, EMBEDDING_FAILED]");
        assertThat(describe(new RepairPlanner(true)
                        .plan(List.of(issue("f", EMBEDDING_FAILED), issue("f", MISSING_BLOB)), Selection.ALL)))
                .containsExactly("f:RESTORE_BLOB[MISSING_BLOB]", "f:FLAG_FOR_PERSON[EMBEDDING_FAILED]");
        assertThat(describe(
                        planner.plan(List.of(issue("f", EMBEDDING_FAILED), issue("f", EXTRA_CHUNKS)), Selection.ALL)))
                .as("stray points of the file are derived data and may still go")
                .containsExactly("f:FLAG_FOR_PERSON[EMBEDDING_FAILED]", "f:DELETE_EXTRA_POINTS[EXTRA_CHUNKS]");
        assertThat(planner.plan(List.of(issue("f", EMBEDDING_FAILED)), new Selection(null, null, true)))
                .as("auto-repair")
                .isEmpty();
    }

    @Test
    @DisplayName("Selections by issue type and file id; auto-repair keeps only the actions safe without a person")
    void selections() {
        List<OpenIssue> issues = List.of(
                issue("a", MISSING_BLOB),
                issue("b", ORPHAN_BLOB),
                issue("c", MISSING_VECTORS),
                issue("d", SIZE_MISMATCH),
                issue("e", ORPHAN_VECTORS));
        RepairPlanner planner = new RepairPlanner(false);
        assertThat(describe(planner.plan(issues, new Selection(EnumSet.of(ORPHAN_BLOB, SIZE_MISMATCH), null, false))))
                .containsExactly("b:QUARANTINE_BLOB[ORPHAN_BLOB]", "d:VERIFY_CONTENT[SIZE_MISMATCH]");
        assertThat(describe(planner.plan(issues, new Selection(null, Set.of(id("c"), id("zz")), false))))
                .containsExactly("c:REEMBED[MISSING_VECTORS]");
        assertThat(describe(planner.plan(issues, new Selection(null, null, true))))
                .containsExactly(
                        "b:QUARANTINE_BLOB[ORPHAN_BLOB]",
                        "c:REEMBED[MISSING_VECTORS]",
                        "e:DELETE_POINTS[ORPHAN_VECTORS]");
        assertThat(Arrays.stream(RepairAction.values()).filter(RepairAction::safe))
                .containsExactlyInAnyOrder(
                        RepairAction.REEMBED,
                        RepairAction.DELETE_POINTS,
                        RepairAction.DELETE_EXTRA_POINTS,
                        RepairAction.QUARANTINE_BLOB,
                        RepairAction.RESTORE_RECORD);
    }

    /** An ORPHAN_BLOB's details as a scan writes them when its committed upload can rebuild the record. */
    private static JsonObject restorable() {
        return new JsonObject()
                .put("size", 12)
                .put(
                        LostRecord.FIELD,
                        new LostRecord("op-1", "a.txt", "text/plain", 12, "ab".repeat(32), null).toJson());
    }

    /** The details of an ORPHAN_BLOB whose record cannot be rebuilt (its upload is no longer kept). */
    private static JsonObject refused() {
        return new JsonObject()
                .put("size", 12)
                .put(LostRecord.FIELD, new LostRecord(null, null, null, 0, null, "no upload is kept").toJson());
    }

    @Test
    @DisplayName("An orphan object whose committed upload can rebuild its record has the record restored, not the"
            + " object quarantined, and its points are kept")
    void lostRecordIsRestoredNotQuarantined() {
        RepairPlanner planner = new RepairPlanner(false);
        assertThat(describe(planner.plan(
                        List.of(issue("f", ORPHAN_BLOB, restorable()), issue("f", ORPHAN_VECTORS)), Selection.ALL)))
                .containsExactly("f:RESTORE_RECORD[ORPHAN_BLOB, ORPHAN_VECTORS]");
        assertThat(describe(planner.plan(List.of(issue("f", ORPHAN_BLOB, restorable())), Selection.ALL)))
                .containsExactly("f:RESTORE_RECORD[ORPHAN_BLOB]");
        // An orphan's issue has no file name; the plan shows the one the restore brings back.
        assertThat(planner.plan(List.of(new OpenIssue("t", 3, id("f"), null, ORPHAN_BLOB, restorable())), Selection.ALL)
                        .get(0)
                        .fileName())
                .isEqualTo("a.txt");
        // The upload is gone (or the object is not its content): quarantined as before.
        assertThat(describe(planner.plan(
                        List.of(issue("f", ORPHAN_BLOB, refused()), issue("f", ORPHAN_VECTORS)), Selection.ALL)))
                .containsExactly("f:QUARANTINE_BLOB[ORPHAN_BLOB]", "f:DELETE_POINTS[ORPHAN_VECTORS]");
        // Auto-repair restores it too: nothing is lost, and quarantine would hide the user's file.
        assertThat(describe(planner.plan(
                        List.of(issue("f", ORPHAN_BLOB, restorable()), issue("f", ORPHAN_VECTORS)),
                        new Selection(null, null, true))))
                .containsExactly("f:RESTORE_RECORD[ORPHAN_BLOB, ORPHAN_VECTORS]");
    }

    @Test
    @DisplayName("A fix narrowed to ORPHAN_VECTORS never deletes the points of a file whose record can be restored")
    void narrowedFixKeepsTheRestorableFilesPoints() {
        List<OpenIssue> issues = List.of(
                issue("f", ORPHAN_BLOB, restorable()),
                issue("f", ORPHAN_VECTORS),
                issue("g", ORPHAN_BLOB, refused()),
                issue("g", ORPHAN_VECTORS));
        assertThat(describe(
                        new RepairPlanner(false).plan(issues, new Selection(EnumSet.of(ORPHAN_VECTORS), null, false))))
                .containsExactly("g:DELETE_POINTS[ORPHAN_VECTORS]");
        assertThat(describe(new RepairPlanner(false).plan(issues, new Selection(EnumSet.of(ORPHAN_BLOB), null, false))))
                .containsExactly("f:RESTORE_RECORD[ORPHAN_BLOB]", "g:QUARANTINE_BLOB[ORPHAN_BLOB]");
    }

    @Test
    @DisplayName("No action deletes a blob; the counts add up")
    void noBlobDeletionAndCounts() {
        List<OpenIssue> issues = Arrays.stream(IssueType.values())
                .map(t -> issue(
                        "f-" + t.ordinal(),
                        t,
                        new JsonObject().put("blob", true).put("points", 2)))
                .toList();
        List<PlannedAction> plan = new RepairPlanner(true).plan(issues, Selection.ALL);
        plan.stream().filter(a -> a.action().store().equals("s3")).forEach(a -> assertThat(a.action())
                .isIn(RepairAction.QUARANTINE_BLOB, RepairAction.RESTORE_BLOB));
        assertThat(plan).allMatch(a -> a.action().reversible());
        JsonObject counts = RepairPlanner.counts(plan);
        assertThat(counts.getInteger("actions")).isEqualTo(plan.size());
        assertThat(counts.getInteger("files")).isEqualTo(IssueType.values().length);
        assertThat(counts.getJsonObject("by_store").stream()
                        .mapToInt(e -> (Integer) e.getValue())
                        .sum())
                .isEqualTo(plan.size());
    }

    @Test
    @DisplayName("An orphan object whose key names no file id of trisync's (another program's object) is never"
            + " quarantined, nor a deleted file's object under such a key; their points are trisync's and still go")
    void foreignObjectIsNeverMoved() {
        RepairPlanner planner = new RepairPlanner(true);
        OpenIssue foreign = new OpenIssue("t", 3, "notes.txt", null, ORPHAN_BLOB, refused());
        assertThat(planner.plan(List.of(foreign), Selection.ALL)).isEmpty();
        assertThat(planner.plan(List.of(foreign), new Selection(null, null, true)))
                .isEmpty();
        assertThat(planner
                        .plan(
                                List.of(new OpenIssue(
                                        "t",
                                        3,
                                        "notes.txt",
                                        null,
                                        DELETE_INCOMPLETE,
                                        new JsonObject().put("blob", true).put("points", 2))),
                                Selection.ALL)
                        .stream()
                        .map(a -> a.action()))
                .containsExactly(RepairAction.DELETE_POINTS);
        assertThat(planner.plan(
                        List.of(new OpenIssue("t", 3, "t/3/nested/" + id("f"), null, ORPHAN_BLOB, refused())),
                        Selection.ALL))
                .isEmpty();
        // An object of trisync's form is quarantined as before.
        assertThat(describe(planner.plan(List.of(issue("f", ORPHAN_BLOB, refused())), Selection.ALL)))
                .containsExactly("f:QUARANTINE_BLOB[ORPHAN_BLOB]");
    }
}
