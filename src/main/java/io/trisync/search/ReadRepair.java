package io.trisync.search;

import io.trisync.events.EventPublisher;
import io.trisync.events.EventPublisher.Draft;
import io.trisync.ops.OpsMessages.TenantRef;
import io.trisync.scan.IssueEvents;
import io.trisync.store.FileRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read repair's detection: the hits a search left out become open issues of the scanner's issue
 * store, each new one with its {@code sync.issue_detected} event, and the repairs are told.
 */
final class ReadRepair {

    private final Vertx vertx;
    private final Stores stores;
    private final EventPublisher events;

    ReadRepair(Vertx vertx, Stores stores, EventPublisher events) {
        this.vertx = vertx;
        this.stores = stores;
        this.events = events;
    }

    /**
     * Records the excluded hits as open issues, each new one with its {@code sync.issue_detected}
     * event. A hit whose file an ingest operation was writing while the search read the stores
     * (unfinished, or ended since {@code began}: a delete halfway, a new version moving its points)
     * was left out of the answer but is not an inconsistency: it is not recorded, as a scan leaves
     * such a file unjudged.
     */
    Future<Void> report(String tenant, List<Excluded> excluded, Map<String, FileRecord> byId, Instant began) {
        if (excluded.isEmpty()) {
            return Future.succeededFuture();
        }
        Set<Integer> partitions = new HashSet<>();
        excluded.forEach(x -> partitions.add(x.point().partition()));
        List<Future<List<IssueRecord>>> open = new ArrayList<>();
        List<Future<Set<String>>> writing = new ArrayList<>();
        partitions.forEach(p -> {
            open.add(stores.issues().open(tenant, p));
            writing.add(stores.operations().filesInFlight(tenant, p, began));
        });
        return Future.all(Future.all(open), Future.all(writing)).compose(v -> {
            Set<String> known = new HashSet<>();
            open.forEach(f -> f.result().forEach(i -> known.add(i.id())));
            Set<String> inFlight = new HashSet<>();
            writing.forEach(f -> inFlight.addAll(f.result()));
            List<Excluded> settled = excluded.stream()
                    .filter(x -> !inFlight.contains(x.point().fileId()))
                    .toList();
            List<IssueRecord> added = new ArrayList<>();
            List<Draft> drafts = new ArrayList<>();
            String now = Instant.now().toString();
            for (Excluded x : settled) {
                FileRecord r = byId.get(x.point().fileId());
                IssueRecord issue = new IssueRecord(
                        tenant,
                        x.point().partition(),
                        x.point().fileId(),
                        r == null ? null : r.name(),
                        x.type().name(),
                        x.details(),
                        now,
                        null);
                if (known.add(issue.id())) {
                    added.add(issue);
                    drafts.add(IssueEvents.detected(issue, null));
                }
            }
            return added.isEmpty()
                    ? Future.succeededFuture()
                    : stores.issues()
                            .apply(added, List.of())
                            .compose(w -> events.publishAll(tenant, drafts))
                            .onSuccess(w ->
                                    vertx.eventBus().send(SearchAddresses.ISSUES_FOUND, new TenantRef(tenant).toJson()))
                            .mapEmpty();
        });
    }
}
