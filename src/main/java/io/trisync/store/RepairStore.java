package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What repairs leave behind in MongoDB: the quarantine ledger ({@code sync_quarantine}, one
 * document per object moved aside, with where it came from, why, and its state) and the audit trail
 * ({@code sync_repair_actions}, one document per action a repair took: what, when, under which
 * operation, the state before and after, and how to undo it). Futures fail with {@link
 * Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface RepairStore {

    /** States of a quarantine entry. */
    String MOVING = "moving";

    String QUARANTINED = "quarantined";
    String RESTORED = "restored";
    String PURGED = "purged";

    Future<Void> init();

    /** Inserts the entry, or leaves an existing one with the same {@code _id} as it is. */
    Future<Void> recordQuarantine(QuarantineEntry entry);

    /** The entry, or null. */
    Future<QuarantineEntry> quarantineEntry(String id);

    /** Entries in state {@code state} (null: any), of one tenant (null: all), oldest first, at most {@code limit}. */
    Future<List<QuarantineEntry>> quarantine(String tenantId, String state, int limit);

    /** Quarantined entries moved before {@code before}, of one tenant (null: all), at most {@code limit}. */
    Future<List<QuarantineEntry>> quarantinedBefore(Instant before, String tenantId, int limit);

    /**
     * Moves an entry from state {@code from} to {@code to}, setting {@code fields}; completes with
     * whether it was in state {@code from} (so two restores of one entry cannot both win).
     */
    Future<Boolean> transition(String id, String from, String to, JsonObject fields);

    /** Records (or replaces, by {@code _id}) one executed action. */
    Future<Void> audit(AuditEntry entry);

    /** The actions recorded under one operation, in the order they were taken, at most {@code limit}. */
    Future<List<AuditEntry>> audits(String opId, int limit);

    /** Retention: removes the audit entries of operations {@code opIds}; how many. */
    Future<Long> removeAudits(List<String> opIds);

    /** The repair audit entries that acted on one file, oldest first. */
    Future<List<AuditEntry>> auditsOfFile(String fileId, int limit);

    /** Of {@code fileIds}, those with an object still held in quarantine (quarantined, or being moved there). */
    Future<Set<String>> heldAmong(List<String> fileIds);
}
