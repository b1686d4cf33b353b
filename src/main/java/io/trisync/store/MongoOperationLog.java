package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link OperationLog} on vertx-mongo-client. */
public final class MongoOperationLog implements OperationLog {

    private static final Logger LOG = LoggerFactory.getLogger(MongoOperationLog.class);

    static final String OPS = "ingest_ops";
    static final String KEYS = "idempotency_keys";
    /** The fields of an idempotency key's document: tenant and key ({@link #keyId}), its operation, when made. */
    static final String KEY_ID = "_id";

    static final String KEY_OP_ID = "opId";
    static final String KEY_CREATED_AT = "createdAt";
    /** The node process that claimed the key (a key cut off from its operation is free once it is gone). */
    static final String KEY_INCARNATION = "incarnation";
    /** How many records a retention pass looks at per collection. */
    static final int RETENTION_BATCH = 10_000;
    /** How many claimable operations one claim tries when other nodes take them first. */
    private static final int CLAIM_ATTEMPTS = 5;

    private final MongoClient client;
    /** Recording operations and their steps: concurrent ones share bulk writes. */
    private final LogWrites writes;

    public MongoOperationLog(MongoClient client) {
        this.client = client;
        this.writes = new LogWrites(client, OPS);
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(IngestOperation.TERMINAL, 1).put(IngestOperation.UPDATED_AT, 1),
                        new IndexOptions().name("open_by_age"))
                .compose(v -> client.createIndexWithOptions(
                        OPS, new JsonObject().put(IngestOperation.FILE_ID, 1), new IndexOptions().name("by_file")))
                .compose(v -> client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(IngestOperation.LEASE_KEY, 1),
                        new IndexOptions().name("held").unique(true).sparse(true)))
                .compose(v -> client.createIndexWithOptions(
                        OPS,
                        new JsonObject().put(IngestOperation.OPEN_FILE, 1),
                        new IndexOptions().name("open_file").unique(true).sparse(true)))
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Void> begin(IngestOperation op) {
        Future<Void> key = op.idempotencyKey() == null
                ? Future.succeededFuture()
                : client.insert(
                                KEYS,
                                new JsonObject()
                                        .put(KEY_ID, keyId(op.tenantId(), op.idempotencyKey()))
                                        .put(KEY_OP_ID, op.id())
                                        .put(KEY_CREATED_AT, Dates.toBson(op.createdAt()))
                                        .put(KEY_INCARNATION, op.incarnation()))
                        .<Void>mapEmpty()
                        .recover(MongoErrors::failed);
        return key.compose(v -> writes.submit(LogWrites.recorded(op))
                .<Void>mapEmpty()
                .recover(error -> op.idempotencyKey() == null
                        ? Future.failedFuture(error)
                        // The operation was not recorded: free its key, else every retry with it would
                        // find a key naming no operation. Unless a retry recorded its own under this id
                        // meanwhile (recordClaimed; this write then failed as its duplicate): the key is
                        // that one's now. Should this write have landed after all, the operation is undone
                        // by recovery (it holds no blob) and its release, being conditional, leaves a
                        // newer claim alone.
                        : client.findOne(OPS, new JsonObject().put(IngestOperation.ID, op.id()), null)
                                .recover(MongoErrors::failed)
                                .compose(recorded -> recorded != null
                                        ? Future.<Void>succeededFuture()
                                        : releaseKey(op.tenantId(), op.idempotencyKey(), op.id()))
                                .transform(released -> Future.failedFuture(error))));
    }

    @Override
    public Future<Void> recordClaimed(IngestOperation op) {
        return writes.submit(LogWrites.recorded(op)).mapEmpty();
    }

    @Override
    public Future<KeyHolder> keyHolder(String tenantId, String key) {
        return client.findOne(KEYS, new JsonObject().put(KEY_ID, keyId(tenantId, key)), null)
                .recover(MongoErrors::failed)
                .compose(doc -> {
                    if (doc == null) {
                        return Future.succeededFuture();
                    }
                    String opId = doc.getString(KEY_OP_ID);
                    Instant claimedAt = Dates.fromBson(doc.getValue(KEY_CREATED_AT));
                    String incarnation = doc.getString(KEY_INCARNATION);
                    return client.findOne(OPS, new JsonObject().put(IngestOperation.ID, opId), null)
                            .recover(MongoErrors::failed)
                            .map(op -> new KeyHolder(opId, claimedAt, incarnation, op == null ? null : readable(op)));
                });
    }

    @Override
    public Future<IngestOperation> byIdempotencyKey(String tenantId, String key) {
        return client.findOne(KEYS, new JsonObject().put(KEY_ID, keyId(tenantId, key)), null)
                .recover(MongoErrors::failed)
                .compose(doc -> doc == null ? Future.succeededFuture() : get(doc.getString(KEY_OP_ID)));
    }

    @Override
    public Future<IngestOperation> get(String opId) {
        return client.findOne(OPS, new JsonObject().put(IngestOperation.ID, opId), null)
                .recover(MongoErrors::failed)
                .compose(doc -> doc == null
                        ? Future.failedFuture(new Failure.NotFound("mongodb", "no operation " + opId))
                        : Future.succeededFuture(doc).map(MongoOperationLog::readable));
    }

    /** A document read to be acted on: one that cannot be read fails with a conflict naming its field. */
    private static IngestOperation readable(JsonObject doc) {
        return IngestOperation.fromDocument(doc).readable();
    }

    @Override
    public Future<IngestOperation> openFor(String fileId) {
        return client.findOne(OPS, new JsonObject().put(IngestOperation.OPEN_FILE, fileId), null)
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : IngestOperation.fromDocument(doc));
    }

    @Override
    public Future<IngestOperation> uploadOf(String fileId) {
        JsonObject query = new JsonObject()
                .put(IngestOperation.FILE_ID, fileId)
                .put(IngestOperation.KIND, IngestOperation.Kind.UPLOAD.name())
                .put(
                        IngestOperation.STEP,
                        new JsonObject()
                                .put(
                                        "$in",
                                        new JsonArray()
                                                .add(IngestOperation.Step.COMMITTED.name())
                                                .add(IngestOperation.Step.DONE.name())));
        return client.findOne(OPS, query, null)
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : IngestOperation.fromDocument(doc))
                .map(op -> {
                    if (op != null && op.unreadable() != null) {
                        // Its size and sha256 are no known version of anything.
                        LOG.warn(
                                "The upload of file {} cannot be read ({}): taken for no known upload",
                                fileId,
                                op.whyUnreadable());
                        return null;
                    }
                    return op;
                });
    }

    @Override
    public Future<Void> advance(String opId, IngestOperation.Step step, String lastError) {
        return writes.submit(LogWrites.advanced(opId, step, lastError)).mapEmpty();
    }

    @Override
    public Future<Boolean> advanceIfHeld(String opId, IngestOperation.Step step, String holder) {
        return writes.submit(LogWrites.advancedIfHeld(opId, step, holder, false));
    }

    @Override
    public Future<Boolean> advanceIfHeldReleasingFile(String opId, IngestOperation.Step step, String holder) {
        return writes.submit(LogWrites.advancedIfHeld(opId, step, holder, true));
    }

    @Override
    public Future<Void> noteError(String opId, String lastError) {
        return client.updateCollection(
                        OPS,
                        new JsonObject().put(IngestOperation.ID, opId),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject()
                                                .put(IngestOperation.LAST_ERROR, lastError)
                                                .put(IngestOperation.UPDATED_AT, Dates.toBson(Instant.now()))))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Boolean> promise(String opId, String holder) {
        Instant now = Instant.now();
        return updateHeld(
                opId,
                holder,
                new JsonObject()
                        .put(
                                "$set",
                                new JsonObject()
                                        .put(IngestOperation.PROMISED_AT, Dates.toBson(now))
                                        .put(IngestOperation.UPDATED_AT, Dates.toBson(now))));
    }

    @Override
    public Future<Boolean> renewLease(String opId, String holder, Instant until, String incarnation) {
        return updateHeld(
                opId,
                holder,
                new JsonObject()
                        .put(
                                "$set",
                                new JsonObject()
                                        .put(IngestOperation.LEASE_UNTIL, Dates.toBson(until))
                                        .put(IngestOperation.UPDATED_AT, Dates.toBson(Instant.now()))
                                        .put(IngestOperation.INCARNATION, incarnation)));
    }

    @Override
    public Future<IngestOperation> take(String opId, String holder, Instant until, String incarnation) {
        Instant now = Instant.now();
        JsonObject takeable = new JsonObject()
                .put(IngestOperation.ID, opId)
                .put(IngestOperation.TERMINAL, false)
                .put(
                        "$or",
                        new JsonArray()
                                .add(new JsonObject()
                                        .put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, holder)))
                                .add(new JsonObject().put(IngestOperation.LEASE_UNTIL, (Object) null))
                                .add(new JsonObject()
                                        .put(
                                                IngestOperation.LEASE_UNTIL,
                                                new JsonObject().put("$lt", Dates.toBson(now)))));
        JsonObject update = new JsonObject()
                .put(
                        "$set",
                        new JsonObject()
                                .put(IngestOperation.LEASE_OWNER, holder)
                                .put(IngestOperation.LEASE_UNTIL, Dates.toBson(until))
                                .put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, holder))
                                .put(IngestOperation.INCARNATION, incarnation)
                                .put(IngestOperation.UPDATED_AT, Dates.toBson(now)));
        return client.findOneAndUpdateWithOptions(
                        OPS, takeable, update, new FindOptions(), new UpdateOptions().setReturningNewDocument(true))
                .recover(MongoErrors::failed)
                .map(doc -> doc == null ? null : readable(doc));
    }

    /** Applies {@code update} when {@code holder} holds the unfinished operation: by its lease key. */
    private Future<Boolean> updateHeld(String opId, String holder, JsonObject update) {
        JsonObject held = new JsonObject().put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, holder));
        return client.updateCollection(OPS, held, update)
                .recover(MongoErrors::failed)
                .map(result -> result.getDocMatched() == 1);
    }

    /**
     * Finds the stalest claimable operation, then claims it with one find-and-modify that checks again
     * that it is still claimable: two nodes racing for it, one gets it and the other looks for the
     * next (a few times, then leaves the rest to its next sweep).
     */
    @Override
    public Future<IngestOperation> claimStale(
            String owner, String incarnation, Instant olderThan, Duration lease, Collection<String> gone) {
        return claimStale(new Claim(owner, incarnation, olderThan, lease, List.copyOf(gone)), CLAIM_ATTEMPTS);
    }

    /** Who claims, for how long, and what is claimable: untouched since {@code olderThan}, or held by the gone. */
    private record Claim(String owner, String incarnation, Instant olderThan, Duration lease, List<String> gone) {}

    private Future<IngestOperation> claimStale(Claim claim, int attempts) {
        String owner = claim.owner();
        Instant olderThan = claim.olderThan();
        Duration lease = claim.lease();
        Instant now = Instant.now();
        FindOptions stalest = new FindOptions()
                .setSort(new JsonObject().put(IngestOperation.UPDATED_AT, 1))
                .setLimit(1)
                .setFields(new JsonObject().put(IngestOperation.ID, 1));
        return client.findWithOptions(OPS, claimable(claim, now), stalest)
                .recover(MongoErrors::failed)
                .compose(found -> {
                    if (found.isEmpty()) {
                        return Future.succeededFuture(null);
                    }
                    String id = found.get(0).getString(IngestOperation.ID);
                    JsonObject update = new JsonObject()
                            .put(
                                    "$set",
                                    new JsonObject()
                                            .put(IngestOperation.LEASE_OWNER, owner)
                                            .put(IngestOperation.LEASE_UNTIL, Dates.toBson(now.plus(lease)))
                                            .put(IngestOperation.INCARNATION, claim.incarnation())
                                            .put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(id, owner)))
                            .put("$inc", new JsonObject().put(IngestOperation.CLAIMS, 1));
                    return client.findOneAndUpdateWithOptions(
                                    OPS,
                                    claimable(claim, now).put(IngestOperation.ID, id),
                                    update,
                                    new FindOptions(),
                                    new UpdateOptions().setReturningNewDocument(true))
                            .recover(MongoErrors::failed)
                            .compose(doc -> doc == null
                                    ? attempts > 1 ? claimStale(claim, attempts - 1) : Future.succeededFuture(null)
                                    : readClaimed(doc, claim, attempts));
                });
    }

    /**
     * The operation just claimed, read; one that cannot be read (a field edited by hand to a value
     * this service never writes) stays claimed, so no sweep takes it again before its lease runs out,
     * and the claim goes on to the next: one such document must not stop the recovery of the others.
     */
    private Future<IngestOperation> readClaimed(JsonObject doc, Claim claim, int attempts) {
        IngestOperation op = IngestOperation.fromDocument(doc);
        if (op.unreadable() == null) {
            return Future.succeededFuture(op);
        }
        LOG.error(
                "Operation {} in {} cannot be read (its field {} holds a value this service never writes): recovery"
                        + " leaves it for {} and goes on with the others; correct or remove it in MongoDB",
                op.id(),
                OPS,
                op.unreadable(),
                claim.lease());
        return claimStale(claim, attempts);
    }

    /**
     * Unfinished, and either held by a gone incarnation or untouched since {@code olderThan} with
     * nobody's lease running at {@code now}.
     */
    private static JsonObject claimable(Claim claim, Instant now) {
        JsonObject untouched = new JsonObject().put("$lt", Dates.toBson(claim.olderThan()));
        JsonArray either = new JsonArray()
                .add(new JsonObject()
                        .put(IngestOperation.UPDATED_AT, untouched)
                        .put(IngestOperation.LEASE_UNTIL, (Object) null))
                .add(new JsonObject()
                        .put(IngestOperation.UPDATED_AT, untouched)
                        .put(IngestOperation.LEASE_UNTIL, new JsonObject().put("$lt", Dates.toBson(now))));
        if (!claim.gone().isEmpty()) {
            either.add(new JsonObject()
                    .put(IngestOperation.INCARNATION, new JsonObject().put("$in", new JsonArray(claim.gone()))));
        }
        return new JsonObject().put(IngestOperation.TERMINAL, false).put("$or", either);
    }

    @Override
    public Future<List<String>> openIncarnations() {
        return client.distinctWithQuery(
                        OPS,
                        IngestOperation.INCARNATION,
                        String.class.getName(),
                        new JsonObject().put(IngestOperation.TERMINAL, false))
                .recover(MongoErrors::failed)
                .map(values -> values.stream()
                        .filter(String.class::isInstance)
                        .map(String.class::cast)
                        .toList());
    }

    @Override
    public Future<Void> releaseKey(String tenantId, String key, String opId) {
        return client.removeDocument(
                        KEYS, new JsonObject().put(KEY_ID, keyId(tenantId, key)).put(KEY_OP_ID, opId))
                .<Void>mapEmpty()
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<Long> countOpen(String tenantId) {
        JsonObject query = new JsonObject().put(IngestOperation.TERMINAL, false);
        if (tenantId != null) {
            query.put(IngestOperation.TENANT_ID, tenantId);
        }
        return client.count(OPS, query).recover(MongoErrors::failed);
    }

    private static String keyId(String tenantId, String key) {
        return tenantId + "\u0000" + key;
    }

    @Override
    public Future<Long> removeEnded(Instant before) {
        JsonObject old = new JsonObject().put("$lt", Dates.toBson(before));
        return client.removeDocuments(
                        OPS,
                        new JsonObject().put(IngestOperation.TERMINAL, true).put(IngestOperation.UPDATED_AT, old))
                .recover(MongoErrors::failed)
                .compose(ops -> client.findWithOptions(
                                KEYS,
                                new JsonObject().put(KEY_CREATED_AT, old),
                                new FindOptions().setLimit(RETENTION_BATCH))
                        .recover(MongoErrors::<List<JsonObject>>failed)
                        .compose(this::removeKeysOfEnded)
                        .map(keys -> ops.getRemovedCount() + keys));
    }

    /** Removes the keys among {@code keys} whose operation is gone or ended. */
    private Future<Long> removeKeysOfEnded(List<JsonObject> keys) {
        if (keys.isEmpty()) {
            return Future.succeededFuture(0L);
        }
        JsonArray opIds =
                new JsonArray(keys.stream().map(k -> k.getString(KEY_OP_ID)).toList());
        return client.find(
                        OPS,
                        new JsonObject()
                                .put(IngestOperation.ID, new JsonObject().put("$in", opIds))
                                .put(IngestOperation.TERMINAL, false))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .compose(open -> {
                    Set<String> unfinished = new HashSet<>();
                    open.forEach(o -> unfinished.add(o.getString(IngestOperation.ID)));
                    JsonArray removable = new JsonArray(keys.stream()
                            .filter(k -> !unfinished.contains(k.getString(KEY_OP_ID)))
                            .map(k -> k.getString(KEY_ID))
                            .toList());
                    return removable.isEmpty()
                            ? Future.succeededFuture(0L)
                            : client.removeDocuments(
                                            KEYS, new JsonObject().put(KEY_ID, new JsonObject().put("$in", removable)))
                                    .recover(MongoErrors::failed)
                                    .map(r -> r.getRemovedCount());
                });
    }

    @Override
    public Future<Set<String>> filesInFlight(String tenantId, int partition, Instant since) {
        // Each query names `terminal` by value first: the embedded server answers it from the
        // open_by_age index's entries (a range on updatedAt), as a real MongoDB's planner does; an
        // $or of the two would read the whole log there.
        JsonObject unfinished = new JsonObject()
                .put(IngestOperation.TERMINAL, false)
                .put(IngestOperation.TENANT_ID, tenantId)
                .put(IngestOperation.PARTITION, partition);
        JsonObject endedSince = new JsonObject()
                .put(IngestOperation.TERMINAL, true)
                .put(IngestOperation.UPDATED_AT, new JsonObject().put("$gte", Dates.toBson(since)))
                .put(IngestOperation.TENANT_ID, tenantId)
                .put(IngestOperation.PARTITION, partition);
        FindOptions fileOnly = new FindOptions().setFields(new JsonObject().put(IngestOperation.FILE_ID, 1));
        Future<List<JsonObject>> open = client.findWithOptions(OPS, unfinished, fileOnly);
        Future<List<JsonObject>> ended = client.findWithOptions(OPS, endedSince, fileOnly);
        return Future.all(open, ended).recover(MongoErrors::failed).map(v -> {
            Set<String> files = new HashSet<>();
            open.result().forEach(d -> files.add(d.getString(IngestOperation.FILE_ID)));
            ended.result().forEach(d -> files.add(d.getString(IngestOperation.FILE_ID)));
            return files;
        });
    }

    @Override
    public Future<Set<String>> openAmong(List<String> fileIds) {
        return MongoGroups.values(
                client,
                OPS,
                new JsonObject().put(IngestOperation.OPEN_FILE, new JsonObject().put("$in", new JsonArray(fileIds))),
                IngestOperation.OPEN_FILE);
    }

    @Override
    public Future<Set<String>> uploading(List<String> fileIds) {
        if (fileIds.isEmpty()) {
            return Future.succeededFuture(Set.of());
        }
        // Named by openFile alone, so the embedded server answers it from that index too.
        JsonObject open =
                new JsonObject().put(IngestOperation.OPEN_FILE, new JsonObject().put("$in", new JsonArray(fileIds)));
        FindOptions fields = new FindOptions()
                .setFields(new JsonObject().put(IngestOperation.OPEN_FILE, 1).put(IngestOperation.KIND, 1));
        return client.findWithOptions(OPS, open, fields)
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> {
                    Set<String> files = new HashSet<>();
                    docs.stream()
                            .filter(d -> IngestOperation.Kind.UPLOAD.name().equals(d.getString(IngestOperation.KIND)))
                            .forEach(d -> files.add(d.getString(IngestOperation.OPEN_FILE)));
                    return files;
                });
    }

    @Override
    public Future<IngestOperation> openOfFile(String fileId) {
        // By the file's index, then the few operations of one file filtered.
        return client.find(
                        OPS,
                        new JsonObject().put(IngestOperation.FILE_ID, fileId).put(IngestOperation.TERMINAL, false))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream()
                        .map(IngestOperation::fromDocument)
                        .min(OLDEST_FIRST)
                        .orElse(null));
    }

    @Override
    public Future<List<IngestOperation>> ofFile(String fileId) {
        return client.find(OPS, new JsonObject().put(IngestOperation.FILE_ID, fileId))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream()
                        .map(IngestOperation::fromDocument)
                        .sorted(OLDEST_FIRST)
                        .toList());
    }

    /** By {@code createdAt}; one whose date cannot be read first (where it stands is not known). */
    private static final Comparator<IngestOperation> OLDEST_FIRST =
            Comparator.comparing(IngestOperation::createdAt, Comparator.nullsFirst(Comparator.naturalOrder()));
}
