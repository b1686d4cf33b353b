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

import io.trisync.scan.DeleteLeftovers;
import io.trisync.scan.IssueType;
import io.trisync.scan.LostRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.StoreKeys;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns open issues into a repair plan (pure: no I/O). Per file, in this order: content first
 * (restore a missing blob, or flag it and a failed text extraction for a person, verify a mismatched
 * one, quarantine an orphan or a deleted file's blob), then vectors (re-embed, or delete derived
 * points). One action may fix several issues of the file; a re-embed also removes extra chunks. A
 * failed text extraction is never re-embedded: the same bytes would fail again. An orphan object
 * whose lost record can be rebuilt from its committed upload (the scan said so in the issue's
 * details, {@link LostRecord}) has its record restored instead of being quarantined, and its points
 * are kept: they are the file's own again once it has a record (docs/design.md, "A lost record is
 * restored from its upload (seventeenth session)"). An object whose key names no file id of this
 * service's form ({@link StoreKeys#isFileId}) is never quarantined: another program wrote it.
 */
public final class RepairPlanner {

    /** One open issue as a scan left it. {@code details} as the engine wrote them. */
    public record OpenIssue(
            String tenantId, int partition, String fileId, String fileName, IssueType type, JsonObject details) {

        /** An issue as the issue store holds it. */
        public static OpenIssue of(IssueRecord issue) {
            return new OpenIssue(
                    issue.tenantId(),
                    issue.partition(),
                    issue.fileId(),
                    issue.fileName(),
                    IssueType.valueOf(issue.type()),
                    issue.details());
        }
    }

    /**
     * Which issues to plan for: {@code types} and {@code fileIds} null mean all; {@code safeOnly}
     * keeps the actions auto-repair may take.
     */
    public record Selection(Set<IssueType> types, Set<String> fileIds, boolean safeOnly) {
        public static final Selection ALL = new Selection(null, null, false);

        boolean wants(OpenIssue issue) {
            return (types == null || types.contains(issue.type()))
                    && (fileIds == null || fileIds.contains(issue.fileId()));
        }
    }

    private static final Set<IssueType> REEMBED_FIXES = EnumSet.of(MISSING_VECTORS, MISSING_CHUNKS, STALE_VECTORS);

    /** The issues of a file's vectors one re-embed sets right (it also drops the points of extra chunks). */
    static final Set<IssueType> VECTOR_FIXES = EnumSet.of(MISSING_VECTORS, MISSING_CHUNKS, STALE_VECTORS, EXTRA_CHUNKS);

    private final boolean backup;

    /** {@code backup}: whether a backup prefix is configured to restore content from. */
    public RepairPlanner(boolean backup) {
        this.backup = backup;
    }

    public List<PlannedAction> plan(List<OpenIssue> issues, Selection selection) {
        // Files whose lost record can be rebuilt, whatever the selection: their points are never
        // deleted as orphans, even by a fix narrowed to ORPHAN_VECTORS.
        Set<String> restorable = new HashSet<>();
        issues.stream().filter(RepairPlanner::restorable).forEach(i -> restorable.add(i.tenantId() + "/" + i.fileId()));
        Map<String, List<OpenIssue>> byFile = new LinkedHashMap<>();
        issues.stream()
                .filter(selection::wants)
                .sorted(Comparator.comparing(OpenIssue::tenantId).thenComparing(OpenIssue::fileId))
                .forEach(i -> byFile.computeIfAbsent(i.tenantId() + "/" + i.fileId(), k -> new ArrayList<>())
                        .add(i));
        List<PlannedAction> plan = new ArrayList<>();
        for (Map.Entry<String, List<OpenIssue>> file : byFile.entrySet()) {
            for (PlannedAction action : planFile(file.getValue(), restorable.contains(file.getKey()))) {
                if (!selection.safeOnly() || action.action().safe()) {
                    plan.add(action);
                }
            }
        }
        return plan;
    }

    /**
     * Whether {@code issue} is an orphan object whose record the scan found can be rebuilt from its
     * committed upload ({@link LostRecord} in its details).
     */
    static boolean restorable(OpenIssue issue) {
        if (issue.type() != ORPHAN_BLOB) {
            return false;
        }
        LostRecord lost = LostRecord.of(issue.details());
        return lost != null && lost.restorable();
    }

    /** {@code restorable}: the file's lost record can be rebuilt (its ORPHAN_BLOB says so, selected or not). */
    private List<PlannedAction> planFile(List<OpenIssue> issues, boolean restorable) {
        OpenIssue first = issues.get(0);
        Map<IssueType, OpenIssue> byType = new LinkedHashMap<>();
        issues.forEach(i -> byType.put(i.type(), i));
        Set<IssueType> types = byType.keySet();
        List<PlannedAction> out = new ArrayList<>();
        // An orphan has no name but the one its upload gave it, which a restore brings back: shown in the plan.
        String name = first.fileName() == null && types.contains(ORPHAN_BLOB) && restorable
                ? LostRecord.of(byType.get(ORPHAN_BLOB).details()).name()
                : first.fileName();
        Adder add = (action, fixes) ->
                out.add(new PlannedAction(action, fixes, first.tenantId(), first.partition(), first.fileId(), name));

        if (types.contains(IssueType.UNREADABLE_RECORD)) {
            // Nothing can be judged of a file whose record cannot be read: a person corrects the record.
            add.to(RepairAction.FLAG_FOR_PERSON, List.of(IssueType.UNREADABLE_RECORD));
            return out;
        }
        boolean contentLost = types.contains(MISSING_BLOB) && !backup;
        if (types.contains(MISSING_BLOB) && backup) {
            add.to(RepairAction.RESTORE_BLOB, List.of(MISSING_BLOB));
        }
        List<IssueType> forPerson = new ArrayList<>();
        if (contentLost) {
            forPerson.add(MISSING_BLOB);
        }
        if (types.contains(EMBEDDING_FAILED)) {
            forPerson.add(EMBEDDING_FAILED);
        }
        if (!forPerson.isEmpty()) {
            add.to(RepairAction.FLAG_FOR_PERSON, forPerson);
        }
        List<IssueType> mismatches = types.stream()
                .filter(t -> t == SIZE_MISMATCH || t == CHECKSUM_MISMATCH)
                .toList();
        if (!mismatches.isEmpty()) {
            add.to(RepairAction.VERIFY_CONTENT, mismatches);
        }
        // An object whose key names no file id of this service's form was written by another program
        // (an issue a scan recorded before such objects were reported apart): never moved.
        boolean ours = StoreKeys.isFileId(first.fileId());
        if (types.contains(ORPHAN_BLOB) && ours && restorable) {
            // The record is rebuilt and the file's points are its own again: none deleted.
            List<IssueType> fixes = new ArrayList<>(List.of(ORPHAN_BLOB));
            if (types.contains(ORPHAN_VECTORS)) {
                fixes.add(ORPHAN_VECTORS);
            }
            add.to(RepairAction.RESTORE_RECORD, fixes);
        } else if (types.contains(ORPHAN_BLOB) && ours) {
            add.to(RepairAction.QUARANTINE_BLOB, List.of(ORPHAN_BLOB));
        }
        if (types.contains(DELETE_INCOMPLETE)) {
            DeleteLeftovers left =
                    DeleteLeftovers.fromJson(byType.get(DELETE_INCOMPLETE).details());
            if (left.blobMayRemain() && ours) {
                add.to(RepairAction.QUARANTINE_BLOB, List.of(DELETE_INCOMPLETE));
            }
            if (left.points() > 0) {
                add.to(RepairAction.DELETE_POINTS, List.of(DELETE_INCOMPLETE));
            }
        }
        List<IssueType> reembed =
                new ArrayList<>(types.stream().filter(REEMBED_FIXES::contains).toList());
        if (!reembed.isEmpty() && !contentLost) {
            if (types.contains(EXTRA_CHUNKS)) {
                reembed.add(EXTRA_CHUNKS);
            }
            add.to(RepairAction.REEMBED, reembed);
        } else if (types.contains(EXTRA_CHUNKS)) {
            add.to(RepairAction.DELETE_EXTRA_POINTS, List.of(EXTRA_CHUNKS));
        }
        if (types.contains(ORPHAN_VECTORS) && !restorable) {
            add.to(RepairAction.DELETE_POINTS, List.of(ORPHAN_VECTORS));
        }
        return out;
    }

    @FunctionalInterface
    private interface Adder {
        void to(RepairAction action, List<IssueType> fixes);
    }

    /** Counts of a plan: actions by kind and by store, files touched. */
    public static JsonObject counts(List<PlannedAction> plan) {
        JsonObject byAction = new JsonObject();
        JsonObject byStore = new JsonObject();
        Set<String> files = new HashSet<>();
        for (PlannedAction a : plan) {
            byAction.put(a.action().name(), byAction.getInteger(a.action().name(), 0) + 1);
            byStore.put(a.action().store(), byStore.getInteger(a.action().store(), 0) + 1);
            files.add(a.tenantId() + "/" + a.fileId());
        }
        return new JsonObject()
                .put("actions", plan.size())
                .put("files", files.size())
                .put("by_action", byAction)
                .put("by_store", byStore)
                .put(
                        "reversible",
                        plan.stream().filter(a -> a.action().reversible()).count());
    }
}
