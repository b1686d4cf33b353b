package io.trisync.scan;

import io.trisync.store.IssueRecord;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A partition's open issues as the scans before this one left them, by file. A file whose listings
 * show exactly its open issues again (the same types with the same details, but for what a
 * confirmation adds: an orphan's {@link LostRecord}) is <em>settled</em>: a full scan takes it as
 * listed, with the recorded details, and does not look at it again. The fresh look exists so that a
 * write caught half way is not reported as a new issue; for a file whose issues are already open and
 * unchanged, the look can only keep them open (its file judged the same, or left unjudged while an
 * operation writes it, which keeps its open issues too) or, should the file have been mended in the
 * instant between the listings and the look, close them one scan early. So a periodic scan of a
 * tenant with known, unrepaired issues costs its listings alone, as Cassandra's incremental repair
 * skips the ranges already repaired, where a look per known issue made every scan pay for all of them
 * again (a HEAD and a point read per file, its operations per orphan). Pure: built from the records.
 */
final class KnownIssues {

    /** Nothing known: every candidate is looked at again. */
    static final KnownIssues NONE = new KnownIssues(Map.of());

    /** The listed files, the settled ones carrying their recorded details, and the settled files' ids. */
    record Settled(List<FileReport> files, Set<String> ids) {}

    /** By file id, the open issues' details by type. */
    private final Map<String, Map<String, JsonObject>> byFile;

    private KnownIssues(Map<String, Map<String, JsonObject>> byFile) {
        this.byFile = byFile;
    }

    /** From the partition's open issues. */
    static KnownIssues of(List<IssueRecord> open) {
        Map<String, Map<String, JsonObject>> byFile = new HashMap<>();
        for (IssueRecord issue : open) {
            byFile.computeIfAbsent(issue.fileId(), f -> new HashMap<>()).put(issue.type(), issue.details());
        }
        return new KnownIssues(byFile);
    }

    /**
     * Settles the files of {@code listed} whose issues are their open ones, unchanged; the files of
     * {@code looked} (those a scan looks at again whatever their listing shows) never are.
     */
    Settled settle(List<FileReport> listed, Set<String> looked) {
        List<FileReport> files = new ArrayList<>(listed.size());
        Set<String> ids = new HashSet<>();
        for (FileReport file : listed) {
            FileReport known = file.issues().isEmpty() || looked.contains(file.fileId()) ? null : recorded(file);
            if (known == null) {
                files.add(file);
            } else {
                files.add(known);
                ids.add(file.fileId());
            }
        }
        return new Settled(files, ids);
    }

    /** {@code file} with its open issues' details, when its listed issues are exactly those; else null. */
    private FileReport recorded(FileReport file) {
        Map<String, JsonObject> open = byFile.get(file.fileId());
        if (open == null || open.size() != file.issues().size()) {
            return null;
        }
        List<FileReport.Issue> issues = new ArrayList<>(file.issues().size());
        for (FileReport.Issue issue : file.issues()) {
            JsonObject details = open.get(issue.type().name());
            if (details == null || !withoutConfirmation(details).equals(issue.details())) {
                return null;
            }
            issues.add(new FileReport.Issue(issue.type(), issue.fileId(), issue.fileName(), details));
        }
        return file.withIssues(issues);
    }

    /** Recorded details as the listings give them: without what the confirmation of an orphan added. */
    private static JsonObject withoutConfirmation(JsonObject details) {
        if (!details.containsKey(LostRecord.FIELD)) {
            return details;
        }
        JsonObject listed = details.copy();
        listed.remove(LostRecord.FIELD);
        return listed;
    }
}
