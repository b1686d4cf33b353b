package io.trisync.repair;

import io.trisync.events.EventPublisher;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.repair.Outcomes.FileOutcome;
import io.trisync.repair.Outcomes.Outcome;
import io.trisync.scan.FileInspector.State;
import io.trisync.scan.IssueType;
import io.trisync.scan.Verdict;
import io.trisync.store.AuditEntry;
import io.trisync.store.IssueRecord;
import io.trisync.store.IssueStore;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a file's repair leaves on record: every action in the audit trail, then the file's verdict,
 * the issues the check after the actions can see it no longer has closed, and {@code
 * sync.issue_resolved} / {@code sync.issue_failed} for each issue the actions were for.
 */
final class Settlement {

    private final Stores stores;
    private final EventPublisher events;

    Settlement(Stores stores, EventPublisher events) {
        this.stores = stores;
        this.events = events;
    }

    /**
     * After the actions: records the file's verdict, closes the issues {@code after} can see are gone
     * ({@link Resolution}), reports the rest.
     */
    Future<FileOutcome> settle(List<PlannedAction> actions, List<Outcome> outcomes, State after, String opId) {
        PlannedAction first = actions.get(0);
        Resolution decided = Resolution.decide(actions, outcomes, after.issues(), after::sees);
        List<IssueType> resolved = decided.resolved();
        List<IssueType> remaining = decided.remaining();
        List<Draft> drafts = new ArrayList<>();
        resolved.forEach(t -> drafts.add(new Draft(
                EventTypes.ISSUE_RESOLVED,
                first.fileId(),
                opId,
                new JsonObject().put("type", t.name()).put("by", "repair"))));
        remaining.forEach(t -> drafts.add(new Draft(
                EventTypes.ISSUE_FAILED,
                first.fileId(),
                opId,
                new JsonObject()
                        .put("type", t.name())
                        .put("reason", decided.reasons().get(t)))));
        List<String> closed = resolved.stream()
                .map(t -> IssueStore.id(first.tenantId(), first.fileId(), t.name()))
                .toList();
        Set<IssueType> planned = EnumSet.noneOf(IssueType.class);
        actions.forEach(a -> planned.addAll(a.fixes()));
        return stores.issues()
                .ofFile(first.tenantId(), first.fileId())
                .compose(open -> {
                    // The file's open issues this run was not for (a fix narrowed by issue_types, an
                    // auto-repair's safe actions only) stay open whatever this check saw.
                    Set<IssueType> others = EnumSet.noneOf(IssueType.class);
                    for (IssueRecord issue : open) {
                        IssueType t = IssueType.valueOf(issue.type());
                        if (!planned.contains(t)) {
                            others.add(t);
                        }
                    }
                    return stores.issues()
                            .apply(List.of(), closed)
                            .compose(v -> after.record() == null
                                            || !after.record().verdictWritable()
                                    ? Future.succeededFuture()
                                    : stores.metadata()
                                            .recordVerdicts(Map.of(first.fileId(), verdictOf(after, others, opId))));
                })
                .compose(v -> drafts.isEmpty()
                        ? Future.succeededFuture()
                        : events.publishAll(first.tenantId(), drafts).mapEmpty())
                .map(v -> new FileOutcome(outcomes, resolved, remaining));
    }

    /**
     * The file's verdict after the repair: what the check after the actions found, and the file's
     * other open issues ({@code others}, which this run was not for). A check sees only what it read:
     * one that read no bytes cannot see a {@code CHECKSUM_MISMATCH} gone, so while such an issue
     * stays open the file is not {@code synced} and a person's mark stays; it clears when a scan (or
     * a repair of those issues) finds the file whole.
     */
    static SyncVerdict.Change verdictOf(State after, Set<IssueType> others, String opId) {
        if (others.isEmpty()) {
            return SyncVerdict.Change.checked(
                    after.report().verdict().wire(),
                    after.issues().stream().map(Enum::name).sorted().toList(),
                    Instant.now().toString(),
                    opId,
                    after.issues().isEmpty());
        }
        Set<IssueType> all = EnumSet.noneOf(IssueType.class);
        all.addAll(after.issues());
        all.addAll(others);
        SyncVerdict sync = after.record().sync();
        boolean attention = sync != null && sync.attention() != null;
        return SyncVerdict.Change.checked(
                Verdict.of(all, attention, false).wire(),
                all.stream().map(Enum::name).sorted().toList(),
                Instant.now().toString(),
                opId,
                false);
    }

    Future<Void> audit(String id, Outcome o, String opId) {
        return stores.repairs()
                .audit(new AuditEntry(
                        id,
                        opId,
                        o.action().toJson(),
                        o.status().wire(),
                        o.reason(),
                        o.before(),
                        o.after(),
                        Instant.now()));
    }
}
