package io.trisync.scan;

import io.trisync.events.EventPublisher;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.store.FileRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.PartitionCheck;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps a partition's scan results: each file's verdict on its metadata ({@code sync} field), and
 * the partition's open issues as a set, so {@code sync.issue_detected} fires once when an issue
 * appears and {@code sync.issue_resolved} once when it is gone, not on every scan. A verdict is
 * written only when it changed (verdict, issue types, or an attention to clear); the partition's
 * check ({@link PartitionCheck}) records when all the others were checked again. Rewriting every
 * file's verdict on every scan was three quarters of a scan's CPU on the embedded MongoDB. A file
 * left unjudged because an ingest operation was writing it keeps its verdict and its open issues.
 */
final class ResultKeeper {

    private final Stores stores;
    private final EventPublisher events;

    ResultKeeper(Stores stores, EventPublisher events) {
        this.stores = stores;
        this.events = events;
    }

    /** {@code held}: the partition's records' verdicts as the scan read them (files never checked have none). */
    Future<Void> keep(
            String tenant, int partition, Confirmation.Judged judged, Map<String, SyncVerdict> held, String opId) {
        String now = Instant.now().toString();
        List<FileReport> reports = judged.files();
        Set<String> unjudged = new HashSet<>();
        judged.inFlight().forEach(f -> unjudged.add(f.fileId()));
        Map<String, SyncVerdict.Change> verdicts = new HashMap<>();
        Map<String, IssueRecord> current = new LinkedHashMap<>();
        for (FileReport r : reports) {
            List<String> types = new ArrayList<>();
            for (FileReport.Issue issue : r.issues()) {
                types.add(issue.type().name());
                IssueRecord record = new IssueRecord(
                        tenant, partition, r.fileId(), r.name(), issue.type().name(), issue.details(), now, opId);
                current.put(record.id(), record);
            }
            // A file left to a person that is whole again needs nobody any more.
            boolean clear = r.verdict() == Verdict.SYNCED;
            if (r.inMongo()
                    && verdictWritable(r)
                    && changed(held.get(r.fileId()), r.verdict().wire(), types, clear)) {
                verdicts.put(r.fileId(), SyncVerdict.Change.checked(r.verdict().wire(), types, now, opId, clear));
            }
        }
        return stores.issues().open(tenant, partition).compose(previous -> {
            Map<String, IssueRecord> before = new HashMap<>();
            previous.forEach(issue -> before.put(issue.id(), issue));
            List<IssueRecord> added = current.values().stream()
                    .filter(i -> !before.containsKey(i.id()))
                    .toList();
            List<IssueRecord> gone = previous.stream()
                    .filter(i -> !current.containsKey(i.id()) && !unjudged.contains(i.fileId()))
                    .toList();
            return stores.issues()
                    .apply(
                            added,
                            restated(current, before),
                            gone.stream().map(IssueRecord::id).toList())
                    .compose(v -> stores.metadata().recordVerdicts(verdicts))
                    .compose(v -> stores.metadata().partitionChecked(new PartitionCheck(tenant, partition, now, opId)))
                    .compose(v -> publish(tenant, added, gone, opId));
        });
    }

    /**
     * Whether the file's record may take a verdict: not when it cannot be read for its {@code sync}
     * itself (see {@link io.trisync.store.FileRecord#verdictWritable}); its issue says so instead.
     */
    private static boolean verdictWritable(FileReport r) {
        return r.issues().stream()
                .filter(i -> i.type() == IssueType.UNREADABLE_RECORD)
                .map(i -> i.details().getString("field", ""))
                .noneMatch(field -> field.equals(FileRecord.SYNC) || field.startsWith(FileRecord.SYNC + "."));
    }

    /**
     * The known issues whose details changed (such as the object a checksum mismatch was hashed from),
     * with their details brought up to date and their first sighting kept; nothing is published of them.
     */
    static List<IssueRecord> restated(Map<String, IssueRecord> current, Map<String, IssueRecord> before) {
        List<IssueRecord> restated = new ArrayList<>();
        current.values().forEach(now -> {
            IssueRecord was = before.get(now.id());
            if (was != null && !now.details().equals(was.details())) {
                restated.add(new IssueRecord(
                        was.tenantId(),
                        was.partition(),
                        was.fileId(),
                        now.fileName(),
                        was.type(),
                        now.details(),
                        was.firstSeen(),
                        was.opId()));
            }
        });
        return restated;
    }

    /** Whether a check's finding differs from the verdict the record holds. */
    static boolean changed(SyncVerdict before, String verdict, List<String> issues, boolean clearAttention) {
        return before == null
                || !verdict.equals(before.verdict())
                || !issues.equals(before.issues())
                || (clearAttention && before.attention() != null);
    }

    private Future<Void> publish(String tenant, List<IssueRecord> added, List<IssueRecord> gone, String opId) {
        List<Draft> drafts = new ArrayList<>(added.size() + gone.size());
        added.forEach(issue -> drafts.add(IssueEvents.detected(issue, opId)));
        gone.forEach(issue -> drafts.add(IssueEvents.resolved(issue, opId)));
        return drafts.isEmpty()
                ? Future.succeededFuture()
                : events.publishAll(tenant, drafts).mapEmpty();
    }
}
