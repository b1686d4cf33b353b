package io.trisync.repair;

import io.trisync.concurrent.Lanes;
import io.trisync.failure.Failure;
import io.trisync.store.Actor;
import io.trisync.store.BlobInfo;
import io.trisync.store.QuarantineEntry;
import io.trisync.store.RepairStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Moving blobs aside instead of deleting them. An object is copied to {@code quarantine~/{tenant}/{id}}
 * (user metadata: the original's, plus the reason, date and original key), the copy is checked, and
 * only then is the original removed; the ledger in MongoDB says where each one came from. The id is
 * derived from the tenant, key and ETag, so a move repeated after a crash lands on the same entry.
 * ({@code ~} cannot occur in a tenant id, so the quarantine prefix never collides with a tenant's.)
 */
final class Quarantine {

    static final String PREFIX = StoreKeys.QUARANTINE_PREFIX;
    private static final String META_PREFIX = "quarantine-";

    private final Stores stores;

    Quarantine(Stores stores) {
        this.stores = stores;
    }

    static String id(String tenantId, String key, String etag) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((tenantId + "\n" + key + "\n" + etag).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the JVM specification", e);
        }
    }

    /** Moves {@code blob} (as a HEAD described it) to quarantine; completes with its ledger entry. */
    Future<QuarantineEntry> move(String tenantId, String fileId, BlobInfo blob, String reason, String opId) {
        String id = id(tenantId, blob.key(), blob.etag());
        String target = PREFIX + tenantId + "/" + id;
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        QuarantineEntry entry = new QuarantineEntry(
                id,
                tenantId,
                fileId,
                blob.key(),
                target,
                blob.size(),
                blob.sha256(),
                blob.etag(),
                blob.contentType(),
                blob.metadata(),
                reason,
                opId,
                now,
                RepairStore.MOVING,
                null,
                null);
        Map<String, String> metadata = new HashMap<>(blob.metadata());
        metadata.put(META_PREFIX + "reason", reason);
        metadata.put(META_PREFIX + "at", now.toString());
        metadata.put(META_PREFIX + "original-key", blob.key());
        JsonObject fields = entry.moveFields();
        // An entry left by an earlier move of the same bytes (restored, purged, or quarantined and put back
        // by hand) is moved again with fresh fields.
        Future<Boolean> reset = stores.repairs().recordQuarantine(entry).map(true);
        for (String earlier : List.of(RepairStore.QUARANTINED, RepairStore.RESTORED, RepairStore.PURGED)) {
            reset = reset.compose(v -> stores.repairs().transition(id, earlier, RepairStore.MOVING, fields));
        }
        return reset.compose(v -> stores.blobs().copy(blob.key(), target, contentType(blob), metadata))
                .compose(v -> stores.blobs().head(target))
                .compose(copy -> copy.size() == blob.size()
                        ? stores.blobs().delete(blob.key())
                        : Future.failedFuture("the quarantine copy of " + blob.key() + " has " + copy.size()
                                + " bytes, the original " + blob.size() + "; the original was kept"))
                .compose(v ->
                        stores.repairs().transition(id, RepairStore.MOVING, RepairStore.QUARANTINED, new JsonObject()))
                .map(v -> entry.withState(RepairStore.QUARANTINED));
    }

    /**
     * Finishes the moves an interrupted repair left half done (its node stopped or died between
     * removing the original and marking the entry quarantined): an entry still {@code moving} whose
     * original key is empty and whose quarantine copy is whole is marked quarantined. One whose
     * original is still there is left for the repair to move again. Completes with how many it finished.
     */
    Future<Integer> settleInterrupted(String tenantId) {
        return stores.repairs().quarantine(tenantId, RepairStore.MOVING, 1000).compose(entries -> {
            Future<Integer> settled = Future.succeededFuture(0);
            for (QuarantineEntry entry : entries) {
                settled = settled.compose(n -> settle(entry).map(done -> done ? n + 1 : n));
            }
            return settled;
        });
    }

    private Future<Boolean> settle(QuarantineEntry entry) {
        return present(entry.originalKey()).compose(original -> {
            if (original) {
                return Future.succeededFuture(false);
            }
            return stores.blobs()
                    .head(entry.quarantineKey())
                    .compose(copy -> copy.size() == entry.size()
                            ? stores.repairs()
                                    .transition(
                                            entry.id(), RepairStore.MOVING, RepairStore.QUARANTINED, new JsonObject())
                            : Future.succeededFuture(false))
                    .recover(e ->
                            e instanceof Failure.NotFound ? Future.succeededFuture(false) : Future.failedFuture(e));
        });
    }

    private Future<Boolean> present(String key) {
        return stores.blobs()
                .head(key)
                .map(b -> true)
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(false) : Future.failedFuture(e));
    }

    /** Puts a quarantined object back at its original key, byte for byte, with its original metadata. */
    Future<QuarantineEntry> restore(String id, String tenantId, Actor actor) {
        return stores.repairs().quarantineEntry(id).compose(entry -> {
            if (entry == null || (tenantId != null && !tenantId.equals(entry.tenantId()))) {
                return Future.failedFuture(new Failure.NotFound("no quarantined object " + id));
            }
            if (!RepairStore.QUARANTINED.equals(entry.state())) {
                return Future.failedFuture(new Failure.Conflict("quarantined object " + id + " is " + entry.state()));
            }
            String original = entry.originalKey();
            String held = entry.quarantineKey();
            Map<String, String> metadata = entry.metadata();
            return stores.blobs()
                    .head(original)
                    .transform(ar -> {
                        if (ar.succeeded()) {
                            return Future.failedFuture(new Failure.Conflict(
                                    "an object exists at " + original + " again; restoring would overwrite it"));
                        }
                        return ar.cause() instanceof Failure.NotFound
                                ? Future.succeededFuture()
                                : Future.failedFuture(ar.cause());
                    })
                    .compose(v -> stores.blobs()
                            .copy(
                                    held,
                                    original,
                                    entry.contentType() == null ? "application/octet-stream" : entry.contentType(),
                                    metadata))
                    .compose(v -> stores.repairs()
                            .transition(
                                    id,
                                    RepairStore.QUARANTINED,
                                    RepairStore.RESTORED,
                                    QuarantineEntry.restoreFields(actor, Instant.now())))
                    .compose(won -> won
                            ? stores.blobs().delete(held)
                            : Future.failedFuture(new Failure.Conflict(
                                    "quarantined object " + id + " was restored or purged meanwhile")))
                    .map(v -> entry.restoredBy(actor));
        });
    }

    /** Deletes quarantined objects moved before {@code before}: the only way a blob is ever deleted by a repair. */
    Future<JsonObject> purge(String tenantId, Instant before, Actor actor) {
        return stores.repairs().quarantinedBefore(before, tenantId, 1000).compose(entries -> {
            JsonArray purged = new JsonArray();
            Future<Void> chain = Lanes.inOrder(entries, entry -> {
                String id = entry.id();
                return stores.repairs()
                        .transition(
                                id,
                                RepairStore.QUARANTINED,
                                RepairStore.PURGED,
                                QuarantineEntry.purgeFields(actor, Instant.now()))
                        .compose(won -> won
                                ? stores.blobs().delete(entry.quarantineKey()).map(x -> purged.add(id))
                                : Future.succeededFuture());
            });
            return chain.map(v -> new JsonObject()
                    .put("purged", purged.size())
                    .put("ids", purged)
                    .put("more", entries.size() == 1000));
        });
    }

    private static String contentType(BlobInfo blob) {
        return blob.contentType() == null ? "application/octet-stream" : blob.contentType();
    }

    static boolean isState(String state) {
        return List.of(RepairStore.MOVING, RepairStore.QUARANTINED, RepairStore.RESTORED, RepairStore.PURGED)
                .contains(state);
    }
}
