package io.trisync.repair;

import io.trisync.events.EventPublisher;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.repair.Outcomes.FileOutcome;
import io.trisync.repair.Outcomes.Outcome;
import io.trisync.scan.FileInspector.State;
import io.trisync.scan.IssueType;
import io.trisync.store.AuditEntry;
import io.trisync.store.IssueStore;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
        Future<Void> verdict = after.record() == null
                ? Future.succeededFuture()
                : stores.metadata().recordVerdicts(Map.of(first.fileId(), verdictOf(after, opId)));
        return stores.issues()
                .apply(List.of(), closed)
                .compose(v -> verdict)
                .compose(v -> drafts.isEmpty()
                        ? Future.succeededFuture()
                        : events.publishAll(first.tenantId(), drafts).mapEmpty())
                .map(v -> new FileOutcome(outcomes, resolved, remaining));
    }

    private static SyncVerdict.Change verdictOf(State after, String opId) {
        return SyncVerdict.Change.checked(
                after.report().verdict().wire(),
                after.issues().stream().map(Enum::name).sorted().toList(),
                Instant.now().toString(),
                opId,
                after.issues().isEmpty());
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
