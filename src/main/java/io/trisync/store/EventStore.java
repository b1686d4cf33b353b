package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The event log (MongoDB {@code events}, {@code event_counters}): every published event, numbered
 * per tenant, kept for the last {@code retain} events of each tenant. Futures fail with {@link
 * Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface EventStore {

    /** Creates the indexes reads rely on. */
    Future<Void> init();

    /**
     * Gives {@code event} the tenant's next sequence number (an atomic counter increment), stores it
     * and trims the tenant's log to its newest {@code retain} events now and then. Completes with the
     * event as stored (numbered, of {@code tenantId}).
     */
    Future<Event> append(String tenantId, Event event);

    /**
     * Appends several events of one tenant at once: one counter increment reserves their sequence
     * numbers (consecutive, in list order) and one bulk insert stores them. Completes with them as stored.
     */
    default Future<List<Event>> appendAll(String tenantId, List<Event> events) {
        return reserve(tenantId, events.size()).compose(last -> {
            List<Event> numbered = new ArrayList<>(events.size());
            for (int i = 0; i < events.size(); i++) {
                numbered.add(events.get(i).numbered(tenantId, last - events.size() + 1 + i));
            }
            return insert(tenantId, numbered).map(numbered);
        });
    }

    /**
     * Reserves the tenant's next {@code count} sequence numbers (one atomic counter increment);
     * completes with the last of them. Numbers reserved and never inserted are a gap in the log.
     */
    Future<Long> reserve(String tenantId, int count);

    /**
     * Stores events numbered from a {@link #reserve} (one bulk insert), and trims the tenant's log to
     * its newest {@code retain} events now and then.
     */
    Future<Void> insert(String tenantId, List<Event> numbered);

    /** The newest {@code limit} events, newest first; of one tenant, or of all when {@code tenantId} is null. */
    Future<List<Event>> recent(String tenantId, int limit);

    /** A tenant's events with {@code seq > afterSeq}, oldest first, at most {@code limit}. */
    Future<List<Event>> since(String tenantId, long afterSeq, int limit);

    /**
     * The last {@code seq} given to a tenant's events (its counter, which outlives events removed by
     * retention), or 0 when it has none.
     */
    Future<Long> lastSeq(String tenantId);

    /** The smallest {@code seq} a tenant's log still holds, or 0 when it holds none. */
    Future<Long> oldestSeq(String tenantId);

    /** Retention: removes events logged before {@code before}; how many. */
    Future<Long> removeBefore(Instant before);

    /**
     * Whether the log holds an event of operation {@code opId} (read by recovery only: the log has
     * no index on it). False too once retention removed them.
     */
    Future<Boolean> logged(String tenantId, String opId);

    /** The newest {@code limit} events of one file of a tenant, newest first. */
    Future<List<Event>> ofFile(String tenantId, String fileId, int limit);
}
