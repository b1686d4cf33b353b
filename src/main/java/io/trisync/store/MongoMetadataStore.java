package io.trisync.store;

import io.trisync.concurrent.GroupCommit;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link MetadataStore} on vertx-mongo-client. */
public final class MongoMetadataStore implements MetadataStore {

    static final String FILES = "files";
    static final String PARTITION_CHECKS = "partition_checks";
    private static final String STORE = "mongodb";

    private final MongoClient client;
    private final int partitions;

    /** A store on its own client (closed by {@link #close()}). */
    public MongoMetadataStore(Vertx vertx, TrisyncConfig.MongoConfig config) {
        this(MongoClient.create(vertx, clientConfig(config)));
    }

    /** A store on a client shared with the other MongoDB-backed stores; {@link #close()} closes it. */
    public MongoMetadataStore(MongoClient client) {
        this(client, 0);
    }

    /**
     * A store on a shared client whose records' partitions are checked against their ids among
     * {@code partitions} (0: not checked; see {@link FileRecord#fromDocument(JsonObject, int)}).
     */
    public MongoMetadataStore(MongoClient client, int partitions) {
        this.client = client;
        this.partitions = partitions;
    }

    private FileRecord read(JsonObject doc) {
        return FileRecord.fromDocument(doc, partitions);
    }

    /**
     * The vertx-mongo-client configuration for {@code config}: short server-selection timeouts so an
     * outage fails fast, and every write acknowledged only once journaled by {@code MONGO_WRITE_CONCERN}
     * members (the embedded server ignores the write concern: it commits every write before answering).
     */
    public static JsonObject clientConfig(TrisyncConfig.MongoConfig config) {
        String w = config.writeConcern();
        return new JsonObject()
                .put("connection_string", config.uri())
                .put("db_name", config.db())
                .put("w", w.equals("majority") ? w : (Object) Integer.valueOf(w))
                .put("j", true)
                .put("wtimeoutMS", 10_000)
                .put("serverSelectionTimeoutMS", 5000)
                .put("connectTimeoutMS", 5000)
                .put("socketTimeoutMS", 60000)
                .put("maxPoolSize", 50);
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        FILES,
                        new JsonObject()
                                .put(FileRecord.TENANT_ID, 1)
                                .put(FileRecord.PARTITION, 1)
                                .put(FileRecord.ID, 1),
                        new IndexOptions().name("tenant_partition_id"))
                .compose(v -> client.createIndexWithOptions(
                        FILES,
                        new JsonObject()
                                .put(FileRecord.TENANT_ID, 1)
                                .put(FileRecord.STATUS, 1)
                                .put(FileRecord.ID, 1),
                        new IndexOptions().name("tenant_status_id")))
                .compose(v -> client.createIndexWithOptions(
                        PARTITION_CHECKS,
                        new JsonObject().put(PartitionCheck.TENANT_ID, 1),
                        new IndexOptions().name("by_tenant")))
                .recover(this::mapped);
    }

    @Override
    public Future<Void> partitionChecked(PartitionCheck check) {
        JsonObject doc = check.toDocument();
        return client.replaceDocumentsWithOptions(
                        PARTITION_CHECKS,
                        new JsonObject().put(PartitionCheck.ID, doc.getString(PartitionCheck.ID)),
                        doc,
                        new UpdateOptions().setUpsert(true))
                .<Void>mapEmpty()
                .recover(this::mapped);
    }

    @Override
    public Future<Map<Integer, PartitionCheck>> partitionChecks(String tenantId) {
        return client.find(PARTITION_CHECKS, new JsonObject().put(PartitionCheck.TENANT_ID, tenantId))
                .recover(this::mapped)
                .map(docs -> {
                    Map<Integer, PartitionCheck> out = new HashMap<>();
                    docs.forEach(d -> {
                        PartitionCheck c = PartitionCheck.fromDocument(d);
                        out.put(c.partition(), c);
                    });
                    return out;
                });
    }

    @Override
    public Future<Void> upsert(FileRecord record) {
        return upserts.submit(record).mapEmpty();
    }

    /** At most this many records go out in one bulk write. */
    static final int UPSERT_BATCH = 256;

    /**
     * Upserts of records in flight at the same moment share one ordered bulk write (group commit);
     * a failed one fails them all, each caller retries its own.
     */
    private final GroupCommit<FileRecord, Integer> upserts =
            GroupCommit.whole(UPSERT_BATCH, 1, Failure::refused, records -> upsertAll(records)
                    .map(n -> Collections.nCopies(records.size(), 1)));

    @Override
    public Future<Integer> upsertAll(List<FileRecord> records) {
        if (records.isEmpty()) {
            return Future.succeededFuture(0);
        }
        List<BulkOperation> ops = new ArrayList<>(records.size());
        for (FileRecord r : records) {
            ops.add(BulkOperation.createReplace(new JsonObject().put(FileRecord.ID, r.id()), r.toDocument(), true));
        }
        return client.bulkWrite(FILES, ops).map(r -> records.size()).recover(this::mapped);
    }

    @Override
    public Future<Void> insert(FileRecord record) {
        return client.insert(FILES, record.toDocument()).<Void>mapEmpty().recover(this::mapped);
    }

    @Override
    public Future<FileRecord> get(String fileId) {
        return client.findOne(FILES, new JsonObject().put(FileRecord.ID, fileId), null)
                .recover(this::mapped)
                .compose(doc -> doc == null
                        ? Future.failedFuture(new Failure.NotFound(STORE, "no file " + fileId))
                        : Future.succeededFuture(read(doc)));
    }

    @Override
    public Future<List<FileRecord>> getAll(List<String> fileIds) {
        List<Future<List<JsonObject>>> finds = new ArrayList<>();
        for (List<String> chunk : InChunks.of(fileIds)) {
            finds.add(client.find(
                            FILES,
                            new JsonObject().put(FileRecord.ID, new JsonObject().put("$in", new JsonArray(chunk))))
                    .recover(this::mapped));
        }
        return Future.all(finds).map(v -> finds.stream()
                .flatMap(f -> f.result().stream())
                .map(this::read)
                .toList());
    }

    @Override
    public Future<Page<FileRecord>> list(FileQuery query, String afterId, int limit) {
        return keysetPage(filter(query), afterId, 1, limit);
    }

    @Override
    public Future<Page<FileRecord>> listNewest(String tenantId, String beforeId, int limit) {
        return keysetPage(filter(new FileQuery(tenantId, null, FileRecord.Status.ACTIVE)), beforeId, -1, limit);
    }

    /** One page in {@code _id} order ({@code direction} 1 or -1) after the cursor; {@code next} is the last id of a full page. */
    private Future<Page<FileRecord>> keysetPage(JsonObject filter, String cursor, int direction, int limit) {
        if (cursor != null) {
            filter.put(FileRecord.ID, new JsonObject().put(direction > 0 ? "$gt" : "$lt", cursor));
        }
        FindOptions options = new FindOptions()
                .setSort(new JsonObject().put(FileRecord.ID, direction))
                .setLimit(limit);
        return client.findWithOptions(FILES, filter, options)
                .recover(this::mapped)
                .map(docs -> {
                    List<FileRecord> items = docs.stream().map(this::read).toList();
                    String next = items.size() < limit
                            ? null
                            : items.get(items.size() - 1).id();
                    return new Page<>(items, next);
                });
    }

    @Override
    public Future<Void> recordVerdicts(Map<String, SyncVerdict.Change> verdicts) {
        if (verdicts.isEmpty()) {
            return Future.succeededFuture();
        }
        // Files with the same verdict share one update ($in on _id): a partition of synced files is one
        // operation, not one per file.
        Map<Map<String, Object>, List<String>> groups = new LinkedHashMap<>();
        verdicts.forEach((id, change) ->
                groups.computeIfAbsent(change.fields(), k -> new ArrayList<>()).add(id));
        List<BulkOperation> ops = new ArrayList<>(groups.size());
        groups.forEach((sync, ids) -> {
            JsonObject set = new JsonObject();
            JsonObject unset = new JsonObject();
            sync.entrySet().forEach(e -> {
                if (e.getValue() == null) {
                    unset.put(FileRecord.syncField(e.getKey()), "");
                } else {
                    set.put(FileRecord.syncField(e.getKey()), e.getValue());
                }
            });
            JsonObject update = new JsonObject().put("$set", set);
            if (!unset.isEmpty()) {
                update.put("$unset", unset);
            }
            for (List<String> chunk : InChunks.of(ids)) {
                JsonObject filter = chunk.size() == 1
                        ? new JsonObject().put(FileRecord.ID, chunk.get(0))
                        : new JsonObject().put(FileRecord.ID, new JsonObject().put("$in", new JsonArray(chunk)));
                ops.add(BulkOperation.createUpdate(filter, update).setMulti(chunk.size() > 1));
            }
        });
        return client.bulkWrite(FILES, ops).<Void>mapEmpty().recover(this::mapped);
    }

    @Override
    public Future<Boolean> patch(String fileId, JsonObject expected, JsonObject set) {
        JsonObject query = expected.copy().put(FileRecord.ID, fileId);
        JsonObject stamped = set.containsKey(FileRecord.UPDATED_AT)
                ? set
                : set.copy().put(FileRecord.UPDATED_AT, Dates.toBson(Instant.now()));
        JsonObject update =
                new JsonObject().put("$set", stamped).put("$inc", new JsonObject().put(FileRecord.VERSION, 1));
        return client.updateCollection(FILES, query, update)
                .recover(this::mapped)
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    @Override
    public Future<Long> patchAll(List<Patch> patches) {
        if (patches.isEmpty()) {
            return Future.succeededFuture(0L);
        }
        JsonObject now = Dates.toBson(Instant.now());
        List<BulkOperation> ops = new ArrayList<>(patches.size());
        for (Patch p : patches) {
            ops.add(BulkOperation.createUpdate(
                    p.expected().copy().put(FileRecord.ID, p.fileId()),
                    new JsonObject()
                            .put("$set", p.set().copy().put(FileRecord.UPDATED_AT, now))
                            .put("$inc", new JsonObject().put(FileRecord.VERSION, 1))));
        }
        return client.bulkWrite(FILES, ops)
                .map(r -> r == null ? 0L : r.getMatchedCount())
                .recover(this::mapped);
    }

    @Override
    public Future<Long> countVerdict(String tenantId, String verdict) {
        JsonObject filter = filter(new FileQuery(tenantId, null, FileRecord.Status.ACTIVE));
        filter.put(FileRecord.SYNC_VERDICT, verdict == null ? new JsonObject().put("$exists", false) : verdict);
        return client.count(FILES, filter).recover(this::mapped);
    }

    @Override
    public Future<List<String>> tenants() {
        return client.distinct(FILES, FileRecord.TENANT_ID, String.class.getName())
                .recover(this::mapped)
                .map(values -> values.stream().map(String::valueOf).sorted().toList());
    }

    @Override
    public Future<Long> count(FileQuery query) {
        return client.count(FILES, filter(query)).recover(this::mapped);
    }

    @Override
    public Future<Map<String, Long>> countByVerdict() {
        return MongoGroups.count(
                client,
                FILES,
                new JsonObject().put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire()),
                FileRecord.SYNC_VERDICT);
    }

    @Override
    public Future<Long> countIndexingFailed(String tenantId) {
        return client.count(
                        FILES,
                        new JsonObject()
                                .put(FileRecord.TENANT_ID, tenantId)
                                .put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire())
                                .put(FileRecord.EMBEDDING_FAILURE, new JsonObject().put("$ne", null)))
                .recover(this::mapped);
    }

    @Override
    public Future<Long> countEmbeddedByOther(String model) {
        return client.count(
                        FILES,
                        new JsonObject()
                                .put(FileRecord.STATUS, FileRecord.Status.ACTIVE.wire())
                                .put(FileRecord.EMBEDDING_CHUNKS, new JsonObject().put("$gt", 0))
                                .put(FileRecord.EMBEDDING_MODEL, new JsonObject().put("$ne", model)))
                .recover(this::mapped);
    }

    @Override
    public Future<Boolean> remove(String fileId) {
        return client.removeDocument(FILES, new JsonObject().put(FileRecord.ID, fileId))
                .map(r -> r != null && r.getRemovedCount() > 0)
                .recover(this::mapped);
    }

    @Override
    public Future<Void> ping() {
        return client.runCommand("ping", new JsonObject().put("ping", 1))
                .<Void>mapEmpty()
                .recover(this::mapped);
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    private static JsonObject filter(FileQuery query) {
        JsonObject filter = new JsonObject().put(FileRecord.TENANT_ID, query.tenantId());
        if (query.partition() != null) {
            filter.put(FileRecord.PARTITION, query.partition());
        }
        if (query.status() != null) {
            filter.put(FileRecord.STATUS, query.status().wire());
        }
        return filter;
    }

    private <T> Future<T> mapped(Throwable error) {
        return MongoErrors.failed(error);
    }

    @Override
    public Future<List<FileRecord>> tombstonesBefore(Instant before, int limit) {
        return client.findWithOptions(
                        FILES,
                        new JsonObject()
                                .put(FileRecord.STATUS, FileRecord.Status.DELETED.wire())
                                .put(FileRecord.UPDATED_AT, new JsonObject().put("$lt", Dates.toBson(before))),
                        new FindOptions().setLimit(limit))
                .recover(this::mapped)
                .map(docs -> docs.stream().map(this::read).toList());
    }

    @Override
    public Future<Long> removeTombstones(List<String> fileIds) {
        if (fileIds.isEmpty()) {
            return Future.succeededFuture(0L);
        }
        List<BulkOperation> ops = new ArrayList<>();
        for (List<String> chunk : InChunks.of(fileIds)) {
            ops.add(BulkOperation.createDelete(new JsonObject()
                            .put(FileRecord.ID, new JsonObject().put("$in", new JsonArray(chunk)))
                            .put(FileRecord.STATUS, FileRecord.Status.DELETED.wire()))
                    .setMulti(true));
        }
        return client.bulkWrite(FILES, ops).recover(this::mapped).map(r -> r == null ? 0L : r.getDeletedCount());
    }
}
