package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.IssueRecord;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KnownIssuesTest {

    private static final String TENANT = "t";

    private static IssueRecord open(String fileId, IssueType type, JsonObject details) {
        return new IssueRecord(TENANT, 3, fileId, "a.txt", type.name(), details, "2026-12-08T00:00:00Z", "scan-1");
    }

    private static FileReport listed(String fileId, IssueType... types) {
        return new FileReport(
                fileId,
                "a.txt",
                Verdict.OUT_OF_SYNC,
                true,
                true,
                true,
                false,
                java.util.Arrays.stream(types)
                        .map(t -> new FileReport.Issue(t, fileId, "a.txt", details(t)))
                        .toList());
    }

    private static JsonObject details(IssueType type) {
        return new JsonObject().put("type", type.name()).put("size", 42);
    }

    @Test
    void aFileListedWithItsOpenIssuesIsSettledWithTheRecordedDetails() {
        JsonObject restore =
                details(IssueType.ORPHAN_BLOB).put(LostRecord.FIELD, new JsonObject().put("restorable", true));
        KnownIssues known = KnownIssues.of(List.of(
                open("f1", IssueType.MISSING_VECTORS, details(IssueType.MISSING_VECTORS)),
                open("f2", IssueType.ORPHAN_BLOB, restore)));

        KnownIssues.Settled settled = known.settle(
                List.of(listed("f1", IssueType.MISSING_VECTORS), listed("f2", IssueType.ORPHAN_BLOB), listed("f3")),
                Set.of());

        assertThat(settled.ids()).containsExactlyInAnyOrder("f1", "f2");
        assertThat(settled.files()).extracting(FileReport::fileId).containsExactly("f1", "f2", "f3");
        // The orphan keeps what its confirmation found (whether its record can be rebuilt).
        assertThat(settled.files().get(1).issues().get(0).details()).isEqualTo(restore);
    }

    @Test
    void anyChangeIsLookedAtAgain() {
        KnownIssues known = KnownIssues.of(List.of(
                open("f1", IssueType.MISSING_VECTORS, details(IssueType.MISSING_VECTORS)),
                open("f2", IssueType.MISSING_VECTORS, details(IssueType.MISSING_VECTORS)),
                open(
                        "f3",
                        IssueType.MISSING_VECTORS,
                        details(IssueType.MISSING_VECTORS).put("size", 7)),
                open("f4", IssueType.MISSING_VECTORS, details(IssueType.MISSING_VECTORS))));

        FileReport another = listed("f1", IssueType.MISSING_BLOB);
        FileReport oneMore = listed("f2", IssueType.MISSING_VECTORS, IssueType.MISSING_CHUNKS);
        FileReport otherDetails = listed("f3", IssueType.MISSING_VECTORS);
        FileReport hashed = listed("f4", IssueType.MISSING_VECTORS);
        FileReport unknown = listed("f5", IssueType.MISSING_VECTORS);
        KnownIssues.Settled settled =
                known.settle(List.of(another, oneMore, otherDetails, hashed, unknown), Set.of("f4"));

        assertThat(settled.ids()).isEmpty();
        assertThat(settled.files()).containsExactly(another, oneMore, otherDetails, hashed, unknown);
    }

    @Test
    void nothingIsSettledWithoutOpenIssues() {
        FileReport file = listed("f1", IssueType.MISSING_VECTORS);
        assertThat(KnownIssues.NONE.settle(List.of(file), Set.of()).ids()).isEmpty();
    }
}
