package io.trisync.store;

import io.trisync.config.ConfigException;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The check of a node's {@code SYNC_PARTITIONS} against its deployment's data, at start ({@link
 * PartitionCount} in MongoDB {@code deployment}). Found: the node starts only when its count is the
 * one recorded. Not found on a database without file records: this node's count is recorded. Not
 * found beside file records (a deployment from before the document): the count cannot be derived
 * from them reliably, so this node's count is recorded only when every record of a sample (up to
 * {@link #SAMPLE}, from the oldest ids to the newest) lies in the partition its id falls in among it; otherwise the node
 * refuses to start. The document is written by an insert, so of nodes starting at once one writes it
 * and the others read theirs and check against it. A refusal of the configured count is a {@link
 * ConfigException} on {@code SYNC_PARTITIONS}: one line naming both counts and what to set, which
 * {@code Main} prints and exits 2 with, as for any other configuration mistake.
 */
public final class DeploymentPartitions {

    private static final Logger LOG = LoggerFactory.getLogger(DeploymentPartitions.class);

    /** The setting a refusal names. */
    static final String KEY = "SYNC_PARTITIONS";
    /**
     * Records sampled before a refusal names the count they agree with: with four records a count
     * of 3 was named for data of 4 (each record fits a smaller count by chance), with twenty the
     * chance is below one in a million.
     */
    static final int ENOUGH_TO_NAME = 20;

    /** How many file records a database without the document is checked by. */
    static final int SAMPLE = 100;

    /** The ranges of ids the sample is drawn from, oldest to newest ({@link #sample()}). */
    static final int RANGES = 5;

    /** Records sampled from each range. */
    static final int PER_RANGE = SAMPLE / RANGES;

    /** The largest count the refusal of a legacy database looks for as the one its records agree with. */
    private static final int LARGEST_GUESS = 65_536;

    private final MongoClient mongo;
    private final int configured;
    private final String nodeId;

    public DeploymentPartitions(MongoClient mongo, int configured, String nodeId) {
        this.mongo = mongo;
        this.configured = configured;
        this.nodeId = nodeId;
    }

    /**
     * The deployment's count once this node may start with its own; failed with a {@link
     * ConfigException} on {@code SYNC_PARTITIONS} when the data was written with another count, with a
     * {@link Failure.Conflict} when the recorded document holds no count or kept changing.
     */
    public Future<PartitionCount> settle() {
        return settle(3);
    }

    private Future<PartitionCount> settle(int tries) {
        return read().compose(found -> {
            if (found != null) {
                return agree(found);
            }
            return first().compose(count -> insert(count).compose(won -> {
                if (won) {
                    LOG.info(
                            "Recorded this deployment's partition count: {} ({})",
                            count.partitions(),
                            PartitionCount.EMPTY.equals(count.basis())
                                    ? "the database held no file records"
                                    : "the " + count.sampled() + " file records sampled agree with it");
                    return Future.succeededFuture(count);
                }
                return tries <= 0
                        ? Future.failedFuture(new Failure.Conflict("the deployment's partition count (MongoDB "
                                + PartitionCount.COLLECTION + ") kept changing under this node's start"))
                        : settle(tries - 1);
            }));
        });
    }

    /** {@code found} if it is the configured count; the refusal otherwise. */
    private Future<PartitionCount> agree(PartitionCount found) {
        if (found.partitions() == configured) {
            return Future.succeededFuture(found);
        }
        if (found.partitions() <= 0) {
            return Future.failedFuture(new Failure.Conflict("MongoDB " + PartitionCount.COLLECTION + " {_id: \""
                    + PartitionCount.KEY + "\"} holds no partition count (its " + PartitionCount.PARTITIONS
                    + " is no whole number of 1 or more): correct it by hand to the count this deployment's data"
                    + " was written with"));
        }
        return Future.failedFuture(ConfigException.againstData(
                KEY,
                KEY + " is " + configured
                        + ", but this deployment's data was written with " + found.partitions()
                        + " partitions (recorded"
                        + (found.recordedAt() == null ? "" : " " + found.recordedAt())
                        + (found.recordedBy() == null ? "" : " by " + found.recordedBy())
                        + " in MongoDB " + PartitionCount.COLLECTION + "): changing the partition count of existing"
                        + " data is not supported; set " + KEY + " back to " + found.partitions()));
    }

    /** The count to record on a database without the document: the configured one, if its records allow. */
    private Future<PartitionCount> first() {
        return sample().compose(docs -> {
            String now = Instant.now().toString();
            if (docs.isEmpty()) {
                return Future.succeededFuture(new PartitionCount(configured, now, nodeId, PartitionCount.EMPTY, 0));
            }
            List<FileRecord> judged = new ArrayList<>();
            List<FileRecord> elsewhere = new ArrayList<>();
            for (JsonObject doc : docs) {
                // Read without the partition check; a record without a readable partition or id
                // tells nothing about the count.
                FileRecord r;
                try {
                    r = FileRecord.fromDocument(doc);
                } catch (RuntimeException e) {
                    continue;
                }
                if (r.id() == null || r.partition() < 0) {
                    continue;
                }
                judged.add(r);
                if (StoreKeys.partition(r.id(), configured) != r.partition()) {
                    elsewhere.add(r);
                }
            }
            // A few records elsewhere are records edited by hand (the scans report each as
            // unreadable); data of another count puts about half or more of them elsewhere.
            if (handEditedAtMost(elsewhere.size(), judged.size())) {
                elsewhere.forEach(r -> LOG.warn(
                        "Record {} lies in partition {}, not {} among {}: a scan reports it as unreadable",
                        r.id(),
                        r.partition(),
                        StoreKeys.partition(r.id(), configured),
                        configured));
                return Future.succeededFuture(
                        new PartitionCount(configured, now, nodeId, PartitionCount.SAMPLED, judged.size()));
            }
            FileRecord example = elsewhere.get(0);
            // Named only from enough records: a few agree with some smaller count by chance.
            int agreed = judged.size() >= ENOUGH_TO_NAME ? agreedCount(judged) : 0;
            return Future.failedFuture(ConfigException.againstData(
                    KEY,
                    KEY + " is " + configured + ", but "
                            + elsewhere.size() + " of the " + judged.size()
                            + " file records sampled (up to "
                            + SAMPLE + ", oldest to newest) lie in other partitions than their ids fall in among "
                            + configured
                            + " (record " + example.id() + ": partition " + example.partition() + ", "
                            + StoreKeys.partition(example.id(), configured) + " among " + configured
                            + "), and no partition count is recorded yet (MongoDB " + PartitionCount.COLLECTION
                            + "): this deployment's data was written with another count"
                            + (agreed > 0 ? " (the records sampled agree with " + agreed + ")" : "")
                            + (agreed == 0 && judged.size() >= ENOUGH_TO_NAME
                                    ? " (the records sampled agree with no one count: it may have been written"
                                            + " with several)"
                                    : "")
                            + "; changing the partition count of existing data is not supported; set "
                            + KEY + " to the count the data was written with"
                            + (agreed > 0 ? " (" + agreed + ")" : "")));
        });
    }

    /**
     * Up to {@link #SAMPLE} file records spread over the id space: all of them when there are fewer;
     * else {@link #PER_RANGE} from each of {@link #RANGES} ranges, the oldest ids, the newest, and
     * those from points evenly apart in time between. File ids are UUID version 7 (a millisecond
     * timestamp first), so the first ids are the oldest files: a deployment whose count was changed
     * before this check existed would be judged by its first count alone.
     */
    private Future<List<JsonObject>> sample() {
        return range(new JsonObject(), 1, SAMPLE).compose(first -> {
            if (first.size() < SAMPLE) {
                return Future.succeededFuture(first);
            }
            return range(new JsonObject(), -1, PER_RANGE).compose(newest -> {
                List<Future<List<JsonObject>>> ranges = new ArrayList<>();
                ranges.add(Future.succeededFuture(first.subList(0, PER_RANGE)));
                for (int i = 1; i < RANGES - 1; i++) {
                    String from = idBetween(id(first.get(0)), id(newest.get(0)), i, RANGES - 1);
                    if (from != null) {
                        ranges.add(range(
                                new JsonObject().put(FileRecord.ID, new JsonObject().put("$gte", from)), 1, PER_RANGE));
                    }
                }
                ranges.add(Future.succeededFuture(newest));
                return Future.all(ranges).map(all -> {
                    Map<Object, JsonObject> byId = new LinkedHashMap<>();
                    for (int i = 0; i < ranges.size(); i++) {
                        all.<List<JsonObject>>resultAt(i).forEach(d -> byId.putIfAbsent(d.getValue(FileRecord.ID), d));
                    }
                    return new ArrayList<>(byId.values());
                });
            });
        });
    }

    /** Up to {@code limit} file records matching {@code query}, by id ascending ({@code 1}) or descending ({@code -1}). */
    private Future<List<JsonObject>> range(JsonObject query, int order, int limit) {
        return mongo.findWithOptions(
                        MongoMetadataStore.FILES,
                        query,
                        new FindOptions()
                                .setSort(new JsonObject().put(FileRecord.ID, order))
                                .setLimit(limit))
                .recover(MongoErrors::failed);
    }

    private static String id(JsonObject doc) {
        return doc.getValue(FileRecord.ID) instanceof String s ? s : null;
    }

    /**
     * The smallest UUID version 7 id of the millisecond {@code part}/{@code parts} of the way from
     * {@code oldest}'s to {@code newest}'s (ids of a later millisecond sort after it); null when
     * either is no UUID version 7 in its canonical form (a record written by hand).
     */
    static String idBetween(String oldest, String newest, int part, int parts) {
        Long from = millisOf(oldest);
        Long to = millisOf(newest);
        if (from == null || to == null || to < from) {
            return null;
        }
        long millis = from + (to - from) * part / parts;
        return new UUID(millis << 16, 0L).toString();
    }

    private static Long millisOf(String id) {
        if (id == null || id.length() != 36) {
            return null;
        }
        try {
            UUID uuid = UUID.fromString(id);
            return uuid.version() == 7 && uuid.toString().equals(id) ? uuid.getMostSignificantBits() >>> 16 : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Whether {@code elsewhere} of {@code judged} records lying outside their id's partition are few
     * enough (at most one in twenty) to be records edited by hand rather than data of another count:
     * under another count about half of the records or more lie elsewhere (a count and its double
     * share the partitions below the smaller), so twenty records are enough to tell.
     */
    static boolean handEditedAtMost(int elsewhere, int judged) {
        return elsewhere * 20 <= judged;
    }

    /** The smallest count every record of {@code judged} lies in its id's partition among; 0 when none up to {@link #LARGEST_GUESS}. */
    static int agreedCount(List<FileRecord> judged) {
        long[] hashes = new long[judged.size()];
        int highest = 0;
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = StoreKeys.partitionHash(judged.get(i).id());
            highest = Math.max(highest, judged.get(i).partition());
        }
        for (int count = highest + 1; count <= LARGEST_GUESS; count++) {
            boolean all = true;
            for (int i = 0; i < hashes.length && all; i++) {
                all = hashes[i] % count == judged.get(i).partition();
            }
            if (all) {
                return count;
            }
        }
        return 0;
    }

    Future<PartitionCount> read() {
        return mongo.findOne(
                        PartitionCount.COLLECTION, new JsonObject().put(PartitionCount.ID, PartitionCount.KEY), null)
                .recover(MongoErrors::failed)
                .map(PartitionCount::fromDocument);
    }

    /** Inserts the first count; false when another node did first. */
    private Future<Boolean> insert(PartitionCount count) {
        return mongo.insert(PartitionCount.COLLECTION, count.toDocument())
                .map(id -> true)
                .recover(e -> MongoErrors.<Boolean>failed(e)
                        .recover(f -> f instanceof Failure.Conflict
                                ? Future.succeededFuture(false)
                                : Future.failedFuture(f)));
    }
}
