package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@link IssueStore} on vertx-mongo-client. */
public final class MongoIssueStore implements IssueStore {

    static final String ISSUES = "sync_issues";

    private final MongoClient client;

    public MongoIssueStore(MongoClient client) {
        this.client = client;
    }

    @Override
    public Future<Void> init() {
        return client.createIndexWithOptions(
                        ISSUES,
                        new JsonObject().put(IssueRecord.TENANT_ID, 1).put(IssueRecord.PARTITION, 1),
                        new IndexOptions().name("tenant_partition"))
                .recover(MongoErrors::failed);
    }

    @Override
    public Future<List<IssueRecord>> open(String tenantId, int partition) {
        return client.find(
                        ISSUES,
                        new JsonObject().put(IssueRecord.TENANT_ID, tenantId).put(IssueRecord.PARTITION, partition))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream().map(IssueRecord::fromDocument).toList());
    }

    @Override
    public Future<Void> apply(List<IssueRecord> added, List<IssueRecord> restated, List<String> resolved) {
        List<BulkOperation> ops = new ArrayList<>();
        added.forEach(issue -> ops.add(BulkOperation.createReplace(
                new JsonObject().put(IssueRecord.ID, issue.id()), issue.toDocument(), true)));
        restated.forEach(issue -> ops.add(BulkOperation.createReplace(
                new JsonObject().put(IssueRecord.ID, issue.id()), issue.toDocument(), false)));
        for (List<String> chunk : InChunks.of(resolved)) {
            ops.add(BulkOperation.createDelete(
                            new JsonObject().put(IssueRecord.ID, new JsonObject().put("$in", new JsonArray(chunk))))
                    .setMulti(true));
        }
        return ops.isEmpty()
                ? Future.succeededFuture()
                : client.bulkWrite(ISSUES, ops).<Void>mapEmpty().recover(MongoErrors::failed);
    }

    @Override
    public Future<Map<String, Long>> countByType() {
        return MongoGroups.count(client, ISSUES, new JsonObject(), IssueRecord.TYPE);
    }

    @Override
    public Future<List<IssueRecord>> openFor(String tenantId, int limit) {
        return client.findWithOptions(
                        ISSUES,
                        new JsonObject().put(IssueRecord.TENANT_ID, tenantId),
                        new FindOptions()
                                .setSort(new JsonObject().put(IssueRecord.FILE_ID, 1))
                                .setLimit(limit))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream().map(IssueRecord::fromDocument).toList());
    }

    @Override
    public Future<List<String>> tenants() {
        return client.distinct(ISSUES, IssueRecord.TENANT_ID, String.class.getName())
                .recover(MongoErrors::failed)
                .map(values -> values.stream().map(String::valueOf).sorted().toList());
    }

    @Override
    public Future<Set<String>> filesAmong(List<String> fileIds) {
        List<Future<Set<String>>> parts = new ArrayList<>();
        for (List<String> chunk : InChunks.of(fileIds)) {
            parts.add(MongoGroups.values(
                    client,
                    ISSUES,
                    new JsonObject().put(IssueRecord.FILE_ID, new JsonObject().put("$in", new JsonArray(chunk))),
                    IssueRecord.FILE_ID));
        }
        return Future.all(parts).map(v -> {
            Set<String> all = new HashSet<>();
            parts.forEach(p -> all.addAll(p.result()));
            return all;
        });
    }

    @Override
    public Future<List<IssueRecord>> ofFile(String tenantId, String fileId) {
        return client.find(
                        ISSUES,
                        new JsonObject().put(IssueRecord.TENANT_ID, tenantId).put(IssueRecord.FILE_ID, fileId))
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> docs.stream().map(IssueRecord::fromDocument).toList());
    }
}
