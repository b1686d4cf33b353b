package io.trisync.repair;

import static io.trisync.scan.IssueType.CHECKSUM_MISMATCH;
import static io.trisync.scan.IssueType.MISSING_VECTORS;
import static io.trisync.scan.IssueType.SIZE_MISMATCH;
import static io.trisync.scan.IssueType.STALE_VECTORS;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.repair.Outcomes.Outcome;
import io.trisync.repair.Outcomes.Status;
import io.trisync.scan.IssueType;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ResolutionTest {

    /** A check that HEADs the object and reads no content (a full scan's view). */
    private static final Predicate<IssueType> HEAD_ONLY = t -> !t.needsContent();
    /** A check that hashed the content (a deep scan's view). */
    private static final Predicate<IssueType> CONTENT_READ = t -> true;

    private static final PlannedAction VERIFY = action(RepairAction.VERIFY_CONTENT, SIZE_MISMATCH, CHECKSUM_MISMATCH);
    private static final PlannedAction REEMBED = action(RepairAction.REEMBED, MISSING_VECTORS);

    private static PlannedAction action(RepairAction action, IssueType... fixes) {
        return new PlannedAction(action, List.of(fixes), "t", 3, "f", "f.txt");
    }

    private static Outcome outcome(PlannedAction action, Status status, String reason) {
        return new Outcome(action, status, reason, null, null);
    }

    @Test
    @DisplayName("Left to a person, checked without the content: the size mismatch is still seen, the checksum"
            + " mismatch cannot be seen gone; neither is resolved, both carry the action's reason")
    void leftToPersonUnseenChecksumStaysOpen() {
        Resolution r = Resolution.decide(
                List.of(VERIFY),
                List.of(outcome(VERIFY, Status.LEFT_TO_PERSON, "matches no known version")),
                Set.of(SIZE_MISMATCH),
                HEAD_ONLY);
        assertThat(r.resolved()).isEmpty();
        assertThat(r.remaining()).containsExactly(SIZE_MISMATCH, CHECKSUM_MISMATCH);
        assertThat(r.reasons())
                .containsEntry(SIZE_MISMATCH, "matches no known version")
                .containsEntry(CHECKSUM_MISMATCH, "matches no known version");
    }

    @Test
    @DisplayName("Done, but checked without the content: the checksum mismatch stays open for a deep scan")
    void doneButUnseenStaysOpen() {
        Resolution r =
                Resolution.decide(List.of(VERIFY), List.of(outcome(VERIFY, Status.DONE, null)), Set.of(), HEAD_ONLY);
        assertThat(r.resolved()).containsExactly(SIZE_MISMATCH);
        assertThat(r.remaining()).containsExactly(CHECKSUM_MISMATCH);
        assertThat(r.reasons().get(CHECKSUM_MISMATCH)).isEqualTo(Resolution.UNSEEN);
    }

    @Test
    @DisplayName("A check that read the content and no longer finds the issues closes them, even after an"
            + " action left to a person (the file was put right meanwhile)")
    void contentReadAndGoneResolves() {
        Resolution r = Resolution.decide(
                List.of(VERIFY),
                List.of(outcome(VERIFY, Status.LEFT_TO_PERSON, "matches no known version")),
                Set.of(),
                CONTENT_READ);
        assertThat(r.resolved()).containsExactly(SIZE_MISMATCH, CHECKSUM_MISMATCH);
        assertThat(r.remaining()).isEmpty();
    }

    @Test
    @DisplayName("A check that read the content and still finds the checksum mismatch keeps it open")
    void contentReadAndPresentStaysOpen() {
        Resolution r = Resolution.decide(
                List.of(VERIFY), List.of(outcome(VERIFY, Status.DONE, null)), Set.of(CHECKSUM_MISMATCH), CONTENT_READ);
        assertThat(r.resolved()).containsExactly(SIZE_MISMATCH);
        assertThat(r.remaining()).containsExactly(CHECKSUM_MISMATCH);
        assertThat(r.reasons().get(CHECKSUM_MISMATCH)).isEqualTo(Resolution.STILL_PRESENT);
    }

    @Test
    @DisplayName("A failed action's issue that the check still sees stays open with the failure's reason;"
            + " the file's other issue, seen gone, is resolved")
    void failedActionKeepsItsIssue() {
        PlannedAction stale = action(RepairAction.REEMBED, STALE_VECTORS);
        Resolution r = Resolution.decide(
                List.of(REEMBED, stale),
                List.of(outcome(REEMBED, Status.DONE, null), outcome(stale, Status.FAILED, "provider down")),
                Set.of(STALE_VECTORS),
                HEAD_ONLY);
        assertThat(r.resolved()).containsExactly(MISSING_VECTORS);
        assertThat(r.remaining()).containsExactly(STALE_VECTORS);
        assertThat(r.reasons()).containsEntry(STALE_VECTORS, "provider down");
    }

    @Test
    @DisplayName("Before an action: already resolved only when the check can see each of its issues gone")
    void stillNeededUnlessSeenGone() {
        assertThat(Resolution.stillNeeded(List.of(CHECKSUM_MISMATCH), Set.of(), HEAD_ONLY))
                .as("a checksum mismatch the check cannot see")
                .isTrue();
        assertThat(Resolution.stillNeeded(List.of(CHECKSUM_MISMATCH), Set.of(), CONTENT_READ))
                .isFalse();
        assertThat(Resolution.stillNeeded(List.of(MISSING_VECTORS), Set.of(), HEAD_ONLY))
                .isFalse();
        assertThat(Resolution.stillNeeded(List.of(MISSING_VECTORS), Set.of(MISSING_VECTORS), HEAD_ONLY))
                .isTrue();
    }

    @Test
    @DisplayName("Only an action for a checksum mismatch makes the checks read the content")
    void onlyChecksumNeedsContent() {
        assertThat(Resolution.needsContent(VERIFY.fixes())).isTrue();
        assertThat(Resolution.needsContent(List.of(SIZE_MISMATCH, STALE_VECTORS)))
                .isFalse();
    }
}
