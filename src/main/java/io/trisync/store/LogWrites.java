package io.trisync.store;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoWriteException;
import com.mongodb.WriteError;
import com.mongodb.bulk.BulkWriteError;
import io.trisync.concurrent.GroupCommit;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkOperationType;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operation log's writes (an operation recorded, a step of one), sent as group commits: the
 * writes of concurrent operations share one unordered bulk write.
 */
final class LogWrites {

    /**
     * A write to the log: an operation recorded, or a step of one; {@code fenced} when it must match
     * (a held lease) and its caller learns whether it did.
     */
    record Write(BulkOperation op, boolean fenced) {}

    /** The write recording {@code op}. */
    static Write recorded(IngestOperation op) {
        return new Write(BulkOperation.createInsert(op.toDocument()), false);
    }

    /** The write recording {@code step} of operation {@code opId}, whoever holds it. */
    static Write advanced(String opId, IngestOperation.Step step, String lastError) {
        return new Write(
                BulkOperation.createUpdate(new JsonObject().put(IngestOperation.ID, opId), stepUpdate(step, lastError)),
                false);
    }

    /**
     * The write recording {@code step} of operation {@code opId} only while {@code holder} holds it;
     * {@code releaseFile}: and freeing its file for the next operation on it.
     */
    static Write advancedIfHeld(String opId, IngestOperation.Step step, String holder, boolean releaseFile) {
        JsonObject held = new JsonObject().put(IngestOperation.LEASE_KEY, IngestOperation.leaseKey(opId, holder));
        JsonObject update = stepUpdate(step, null);
        if (releaseFile && !step.terminal()) {
            update.put("$unset", new JsonObject().put(IngestOperation.OPEN_FILE, ""));
        }
        return new Write(BulkOperation.createUpdate(held, update), true);
    }

    /** At most this many log writes go out in one bulk write. */
    static final int WRITE_BATCH = 256;

    /**
     * The log writes of concurrent operations share a round trip (group commit): one unordered bulk
     * write. A write it refused fails alone, with its own error (a duplicate: {@link Failure.Conflict});
     * when fewer fenced updates matched than were sent, each is asked again alone (setting a step twice
     * is harmless) to learn which.
     */
    private final GroupCommit<Write, Boolean> commits = new GroupCommit<>(WRITE_BATCH, 1, this::writeBatch);

    private final MongoClient client;
    private final String collection;

    LogWrites(MongoClient client, String collection) {
        this.client = client;
        this.collection = collection;
    }

    /** Sends {@code write} with those of other operations in flight; whether it matched. */
    Future<Boolean> submit(Write write) {
        return commits.submit(write);
    }

    /** Sends {@code batch} as one bulk write (what a group commit sends); each write's outcome. */
    Future<List<Future<Boolean>>> writeBatch(List<Write> batch) {
        List<BulkOperation> ops = batch.stream().map(Write::op).toList();
        return client.bulkWriteWithOptions(collection, ops, new BulkWriteOptions(false))
                .compose(
                        result -> {
                            long updates = batch.stream()
                                    .filter(w -> w.op().getType() == BulkOperationType.UPDATE)
                                    .count();
                            if (result.getMatchedCount() >= updates) {
                                return Future.succeededFuture(batch.stream()
                                        .map(w -> Future.succeededFuture(true))
                                        .toList());
                            }
                            return Future.succeededFuture(batch.stream()
                                    .map(w -> w.fenced() ? alone(w) : Future.succeededFuture(true))
                                    .toList());
                        },
                        error -> error instanceof MongoBulkWriteException refused
                                ? Future.succeededFuture(outcomes(batch, refused))
                                : MongoErrors.failed(error));
    }

    /** A fenced update sent again by itself: whether it matched. */
    private Future<Boolean> alone(Write w) {
        return client.updateCollection(collection, w.op().getFilter(), w.op().getDocument())
                .recover(MongoErrors::failed)
                .map(r -> r.getDocMatched() == 1);
    }

    /**
     * Each write's outcome when the bulk write refused some: those refused fail with their own error,
     * fenced updates are asked again alone (the refusal hides which of them matched).
     */
    private List<Future<Boolean>> outcomes(List<Write> batch, MongoBulkWriteException refused) {
        Map<Integer, BulkWriteError> errors = new HashMap<>();
        refused.getWriteErrors().forEach(e -> errors.put(e.getIndex(), e));
        List<Future<Boolean>> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            BulkWriteError e = errors.get(i);
            if (e != null) {
                out.add(MongoErrors.failed(new MongoWriteException(
                        new WriteError(e.getCode(), e.getMessage(), e.getDetails()),
                        refused.getServerAddress(),
                        Set.of())));
            } else {
                out.add(batch.get(i).fenced() ? alone(batch.get(i)) : Future.succeededFuture(true));
            }
        }
        return out;
    }

    /** The update recording {@code step}: an operation that ended is held by nobody any more. */
    private static JsonObject stepUpdate(IngestOperation.Step step, String lastError) {
        JsonObject update = new JsonObject().put("$set", stepSet(step, lastError));
        if (step.terminal()) {
            update.getJsonObject("$set").putNull(IngestOperation.LEASE_OWNER).putNull(IngestOperation.LEASE_UNTIL);
            update.put(
                    "$unset",
                    new JsonObject().put(IngestOperation.LEASE_KEY, "").put(IngestOperation.OPEN_FILE, ""));
        }
        return update;
    }

    /** The {@code $set} that records {@code step} (and the error that stopped it, or none) now. */
    private static JsonObject stepSet(IngestOperation.Step step, String lastError) {
        return new JsonObject()
                .put(IngestOperation.STEP, step.name())
                .put(IngestOperation.TERMINAL, step.terminal())
                .put(IngestOperation.UPDATED_AT, Dates.toBson(Instant.now()))
                .put(IngestOperation.LAST_ERROR, lastError);
    }
}
