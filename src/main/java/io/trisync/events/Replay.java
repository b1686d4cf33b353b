package io.trisync.events;

import io.trisync.events.EventMessages.ReplayPage;
import io.trisync.events.EventMessages.ReplayRequest;
import io.trisync.store.EventStore;
import io.vertx.core.Future;

/**
 * What a reconnecting browser missed: the tenant's events after the last {@code seq} it saw, in
 * order, from the event log; or, when the log no longer reaches back that far, an explicit {@code
 * reload} so the client reloads its state instead of silently missing events; or where the log
 * stands now, for a page that has just opened.
 */
final class Replay {

    private final EventStore events;

    Replay(EventStore events) {
        this.events = events;
    }

    Future<ReplayPage> since(ReplayRequest request) {
        String tenant = request.tenantId();
        if (request.head()) {
            return events.lastSeq(tenant).map(ReplayPage::head);
        }
        long after = request.afterSeq();
        return events.oldestSeq(tenant)
                .compose(oldest -> oldest - 1 > after
                        ? Future.succeededFuture(ReplayPage.reload(oldest, after))
                        : events.since(tenant, after, request.limit())
                                .map(list -> ReplayPage.of(list, request.limit())));
    }
}
