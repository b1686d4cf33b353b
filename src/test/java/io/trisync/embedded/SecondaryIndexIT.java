package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded MongoDB's non-unique indexes ({@link SecondaryIndex}) answer what the server would
 * answer by reading the whole collection: pages of one (tenant, partition) in id order, before and
 * after updates that move documents between partitions and deletes, equality and ranges on the last
 * key, counts; in memory and in the file backend, where the index is rebuilt when the server opens
 * the file again.
 */
@Timeout(120)
class SecondaryIndexIT {

    @Test
    @DisplayName("In memory: pages, counts and ranges through the index equal the expected documents")
    void inMemory() throws Exception {
        try (EmbeddedMongo mongo = EmbeddedMongo.start(0, null)) {
            Vertx vertx = Vertx.vertx();
            try {
                MongoClient client = client(vertx, mongo.port());
                Map<String, JsonObject> docs = seed(client);
                assertPagesMatch(client, docs);
                change(client, docs);
                assertPagesMatch(client, docs);
                client.close().await();
            } finally {
                vertx.close().await();
            }
        }
    }

    @Test
    @DisplayName("In the file: the index is rebuilt when the server opens the file again")
    void persistent() throws Exception {
        Path dir = TestStack.tempDir("trisync-index");
        Map<String, JsonObject> docs;
        Vertx vertx = Vertx.vertx();
        try {
            try (EmbeddedMongo mongo = EmbeddedMongo.start(0, dir)) {
                MongoClient client = client(vertx, mongo.port());
                docs = seed(client);
                change(client, docs);
                client.close().await();
            }
            try (EmbeddedMongo mongo = EmbeddedMongo.start(0, dir)) {
                MongoClient client = client(vertx, mongo.port());
                assertPagesMatch(client, docs);
                client.close().await();
            }
        } finally {
            vertx.close().await();
        }
    }

    /** How many documents a find returns (a count would run as an aggregation, which reads every document). */
    private static Future<Long> countByFind(MongoClient client, String collection, JsonObject query) {
        return client.find(collection, query).map(list -> (long) list.size());
    }

    @Test
    @DisplayName("A document with an array on an indexed path is still found (the index stops answering)")
    void arraysOnIndexedPaths() throws Exception {
        try (EmbeddedMongo mongo = EmbeddedMongo.start(0, null)) {
            Vertx vertx = Vertx.vertx();
            try {
                MongoClient client = client(vertx, mongo.port());
                client.createIndexWithOptions(
                                "nested", new JsonObject().put("t", 1).put("a.b", 1), new IndexOptions().name("t_ab"))
                        .await();
                client.insert(
                                "nested",
                                new JsonObject().put("_id", "x").put("t", "t1").put("a", new JsonObject().put("b", 1)))
                        .await();
                client.insert(
                                "nested",
                                new JsonObject()
                                        .put("_id", "y")
                                        .put("t", "t1")
                                        .put("a", new JsonArray().add(new JsonObject().put("b", 1))))
                        .await();
                assertThat(countByFind(
                                        client,
                                        "nested",
                                        new JsonObject().put("t", "t1").put("a.b", 1))
                                .await())
                        .isEqualTo(2);
                client.removeDocument("nested", new JsonObject().put("_id", "y"))
                        .await();
                assertThat(countByFind(
                                        client,
                                        "nested",
                                        new JsonObject().put("t", "t1").put("a.b", 1))
                                .await())
                        .isEqualTo(1);
                client.close().await();
            } finally {
                vertx.close().await();
            }
        }
    }

    private static MongoClient client(Vertx vertx, int port) {
        return MongoClient.create(
                vertx,
                new JsonObject()
                        .put("connection_string", "mongodb://127.0.0.1:" + port)
                        .put("db_name", "index_test"));
    }

    private static Map<String, JsonObject> seed(MongoClient client) {
        client.createIndexWithOptions(
                        "files",
                        new JsonObject().put("tenantId", 1).put("partition", 1).put("_id", 1),
                        new IndexOptions().name("tenant_partition_id"))
                .await();
        client.createIndexWithOptions(
                        "files",
                        new JsonObject().put("tenantId", 1).put("seq", 1),
                        new IndexOptions().name("tenant_seq"))
                .await();
        Map<String, JsonObject> docs = new TreeMap<>();
        Random random = new Random(3);
        List<BulkOperation> inserts = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            String id = String.format("f%05d", random.nextInt(100_000)) + "-" + i;
            JsonObject doc = new JsonObject()
                    .put("_id", id)
                    .put("tenantId", "t" + random.nextInt(3))
                    .put("partition", random.nextInt(8))
                    .put("seq", (long) i);
            docs.put(id, doc);
            inserts.add(BulkOperation.createInsert(doc));
        }
        client.bulkWrite("files", inserts).await();
        return docs;
    }

    /** Moves a third of the documents to another partition (by update and by replace) and deletes a tenth. */
    private static void change(MongoClient client, Map<String, JsonObject> docs) {
        int n = 0;
        for (String id : new ArrayList<>(docs.keySet())) {
            JsonObject doc = docs.get(id);
            if (n % 10 == 0) {
                client.removeDocument("files", new JsonObject().put("_id", id)).await();
                docs.remove(id);
            } else if (n % 3 == 0) {
                int moved = (doc.getInteger("partition") + 1) % 8;
                client.updateCollection(
                                "files",
                                new JsonObject().put("_id", id),
                                new JsonObject().put("$set", new JsonObject().put("partition", moved)))
                        .await();
                doc.put("partition", moved);
            } else if (n % 7 == 0) {
                JsonObject replaced = doc.copy().put("tenantId", "t9");
                client.replaceDocuments("files", new JsonObject().put("_id", id), replaced)
                        .await();
                docs.put(id, replaced);
            }
            n++;
        }
    }

    private static void assertPagesMatch(MongoClient client, Map<String, JsonObject> docs) {
        // The stock server keeps no entry for a non-unique index (its size is 0); this one holds every document.
        JsonObject stats = client.runCommand("collStats", new JsonObject().put("collStats", "files"))
                .await();
        assertThat(stats.getJsonObject("indexSize").getLong("tenant_partition_id"))
                .as("entries of the index: %s", stats)
                .isEqualTo(docs.size() * 64L);
        for (String tenant : List.of("t0", "t1", "t2", "t9", "none")) {
            for (int partition = 0; partition < 8; partition++) {
                List<String> expected = new ArrayList<>();
                for (JsonObject d : docs.values()) {
                    if (d.getString("tenantId").equals(tenant) && d.getInteger("partition") == partition) {
                        expected.add(d.getString("_id"));
                    }
                }
                List<String> paged = new ArrayList<>();
                String after = null;
                while (true) {
                    JsonObject query = new JsonObject().put("tenantId", tenant).put("partition", partition);
                    if (after != null) {
                        query.put("_id", new JsonObject().put("$gt", after));
                    }
                    List<JsonObject> page = client.findWithOptions(
                                    "files",
                                    query,
                                    new FindOptions()
                                            .setSort(new JsonObject().put("_id", 1))
                                            .setLimit(50))
                            .await();
                    page.forEach(d -> paged.add(d.getString("_id")));
                    if (page.size() < 50) {
                        break;
                    }
                    after = page.get(page.size() - 1).getString("_id");
                }
                assertThat(paged).as("%s partition %d", tenant, partition).isEqualTo(expected);
                assertThat(countByFind(
                                        client,
                                        "files",
                                        new JsonObject().put("tenantId", tenant).put("partition", partition))
                                .await())
                        .isEqualTo(expected.size());
            }
            long lowSeq = 1000;
            long expectedRange = docs.values().stream()
                    .filter(d -> d.getString("tenantId").equals(tenant)
                            && d.getLong("seq") >= lowSeq
                            && d.getLong("seq") < 2000)
                    .count();
            assertThat(countByFind(
                                    client,
                                    "files",
                                    new JsonObject()
                                            .put("tenantId", tenant)
                                            .put(
                                                    "seq",
                                                    new JsonObject()
                                                            .put("$gte", lowSeq)
                                                            .put("$lt", 2000L)))
                            .await())
                    .as("seq range of %s", tenant)
                    .isEqualTo(expectedRange);
            JsonArray in = new JsonArray().add(5L).add(6L).add(7L);
            long expectedIn = docs.values().stream()
                    .filter(d ->
                            d.getString("tenantId").equals(tenant) && d.getLong("seq") >= 5 && d.getLong("seq") <= 7)
                    .count();
            assertThat(countByFind(
                                    client,
                                    "files",
                                    new JsonObject()
                                            .put("tenantId", tenant)
                                            .put("seq", new JsonObject().put("$in", in)))
                            .await())
                    .isEqualTo(expectedIn);
        }
    }
}
