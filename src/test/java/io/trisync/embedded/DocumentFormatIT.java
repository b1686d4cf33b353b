package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A data directory written before the embedded MongoDB kept its documents as BSON (by the stock H2
 * backend, documents Java-serialized) opens with the current server: every document reads back as
 * it was written, and after updates and new inserts, which write pages in the new format, a second
 * restart still reads all of them, old and new. Its unique indexes, which the stock backend ordered by
 * their keys' Java serialization, are rebuilt in value order on the first open and find every
 * document and refuse every duplicate.
 */
@Timeout(120)
class DocumentFormatIT {

    private static final int OLD = 300;

    @Test
    @DisplayName("Documents of a file written by the stock backend read back after the format change, beside new ones")
    void readsFilesOfTheStockBackend() throws Exception {
        Path dir = TestStack.tempDir("trisync-format");
        Files.createDirectories(dir);
        Vertx vertx = Vertx.vertx();
        try {
            MongoServer stock =
                    new MongoServer(new H2Backend(dir.resolve("trisync.mv").toString()));
            stock.bind("127.0.0.1", 0);
            try {
                MongoClient client = client(vertx, stock.getLocalAddress().getPort());
                client.createIndexWithOptions("files", new JsonObject().put("name", 1), new IndexOptions().unique(true))
                        .await();
                for (int i = 0; i < OLD; i++) {
                    client.insert("files", document(i)).await();
                }
                client.close().await();
            } finally {
                stock.shutdown();
            }

            try (EmbeddedMongo mongo = EmbeddedMongo.start(0, dir)) {
                MongoClient client = client(vertx, mongo.port());
                assertThat(all(client)).isEqualTo(expected(0, OLD));
                // The unique indexes the stock backend wrote (_id, name) answer point lookups and refuse
                // duplicates: they were rebuilt in value order when opened.
                for (int i = 0; i < OLD; i++) {
                    assertThat(client.findOne("files", new JsonObject().put("_id", id(i)), null)
                                    .await())
                            .isEqualTo(document(i));
                    assertThat(client.find("files", new JsonObject().put("name", name(i)))
                                    .await())
                            .containsExactly(document(i));
                }
                assertThatThrownBy(() -> client.insert("files", document(3)).await())
                        .hasMessageContaining("duplicate key");
                assertThatThrownBy(() -> client.insert("files", document(4).put("_id", "another"))
                                .await())
                        .hasMessageContaining("duplicate key");
                client.updateCollection(
                                "files",
                                new JsonObject().put("_id", id(7)),
                                new JsonObject().put("$set", new JsonObject().put("state", "updated")))
                        .await();
                for (int i = OLD; i < OLD + 50; i++) {
                    client.insert("files", document(i)).await();
                }
                client.close().await();
            }

            try (EmbeddedMongo mongo = EmbeddedMongo.start(0, dir)) {
                MongoClient client = client(vertx, mongo.port());
                List<JsonObject> expected = expected(0, OLD + 50);
                expected.get(7).put("state", "updated");
                assertThat(all(client)).isEqualTo(expected);
                client.close().await();
            }
        } finally {
            vertx.close().await();
        }
    }

    @Test
    @DisplayName(
            "A write its journal could not replay exactly ($currentDate) is refused with the reason, and changes nothing")
    void refusesWritesReplayWouldChange() throws Exception {
        Path dir = TestStack.tempDir("trisync-format");
        Vertx vertx = Vertx.vertx();
        try (EmbeddedMongo mongo = EmbeddedMongo.start(0, dir)) {
            MongoClient client = client(vertx, mongo.port());
            client.insert("files", document(1)).await();
            Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> client.updateCollection(
                            "files",
                            new JsonObject().put("_id", id(1)),
                            new JsonObject()
                                    .put("$currentDate", new JsonObject().put("touched", true))
                                    .put("$set", new JsonObject().put("state", "touched")))
                    .await());
            assertThat(refused).hasMessageContaining("$currentDate");
            assertThat(all(client)).containsExactly(document(1));
            client.close().await();
        } finally {
            vertx.close().await();
        }
    }

    private static String id(int i) {
        return String.format("file-%05d", i);
    }

    private static String name(int i) {
        // Names of differing lengths: the stock order (serialized, length first) is not the value order.
        return "report-" + (i * 37 % 1000) + ".pdf";
    }

    private static JsonObject document(int i) {
        return new JsonObject()
                .put("_id", id(i))
                .put("name", name(i))
                .put("tenantId", "tenant-" + (i % 3))
                .put("partition", i % 64)
                .put("size", 5_000_000_000L + i)
                .put("state", "active")
                .put("createdAt", new JsonObject().put("$date", "2026-12-03T10:00:00.123Z"))
                .put("embedding", new JsonObject().put("model", "m@384").put("chunks", i % 5))
                .put("chunks", new JsonArray().add("c0").add(new JsonObject().put("n", i)))
                .putNull("error");
    }

    private static List<JsonObject> expected(int from, int to) {
        return IntStream.range(from, to).mapToObj(DocumentFormatIT::document).toList();
    }

    private static List<JsonObject> all(MongoClient client) {
        return client.findWithOptions(
                        "files", new JsonObject(), new FindOptions().setSort(new JsonObject().put("_id", 1)))
                .await();
    }

    private static MongoClient client(Vertx vertx, int port) {
        return MongoClient.create(
                vertx,
                new JsonObject()
                        .put("connection_string", "mongodb://127.0.0.1:" + port)
                        .put("db_name", "format_test"));
    }
}
