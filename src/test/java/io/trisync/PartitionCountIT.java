package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.ConfigException;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.PartitionCount;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.ChildJvm;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code SYNC_PARTITIONS} is a property of the deployment's data: the first node records it in MongoDB
 * ({@code deployment}), a node of another count refuses to start, and a database from before the
 * record is checked by a sample of its file records.
 */
@Timeout(180)
class PartitionCountIT {

    private final String database = TestStack.unique("partition-count").replace('-', '_');
    private final String tenant = TestStack.unique("partitions");

    private Node node(int partitions) {
        return Node.start(
                        TestStack.nodeConfig(
                                Map.of("MONGO_DB", database, "SYNC_PARTITIONS", String.valueOf(partitions))),
                        false)
                .await();
    }

    private static Throwable refusal(String database, int partitions) {
        try {
            Node started = Node.start(
                            TestStack.nodeConfig(
                                    Map.of("MONGO_DB", database, "SYNC_PARTITIONS", String.valueOf(partitions))),
                            false)
                    .await();
            started.stop().await();
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    /**
     * Uploads files on a node of 4 partitions until at least one of them lies elsewhere among 8 (so
     * a node of 8 partitions would misread it), and returns their ids.
     */
    private List<String> uploadOnFour(Node four) {
        List<String> ids = new ArrayList<>();
        try (Http http = new Http(four.vertx(), four.httpPort())) {
            // Enough records for a refusal to name the count they agree with (DeploymentPartitions.ENOUGH_TO_NAME).
            while (ids.size() < 20
                    || ids.stream().allMatch(id -> StoreKeys.partition(id, 8) == StoreKeys.partition(id, 4))) {
                HttpResponse<Buffer> r = http.upload(
                        tenant,
                        "log-" + ids.size() + ".txt",
                        "text/plain",
                        Fixtures.utf8("The lighthouse keeper's log, page " + ids.size() + ". " + Fixtures.prose(40)),
                        null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                ids.add(r.bodyAsJsonObject().getString("id"));
            }
        }
        return ids;
    }

    /** The tenant's listing and search on {@code node}: every file of {@code ids}. */
    private void allThere(Node node, List<String> ids) {
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            JsonObject listed = Http.json(http.get("/api/files?user_id=" + tenant));
            assertThat(listed.getJsonArray("files").stream()
                            .map(f -> ((JsonObject) f).getString("id"))
                            .toList())
                    .containsExactlyInAnyOrderElementsOf(ids);
            JsonObject found = Http.json(http.post(
                    "/api/search",
                    "application/json",
                    new JsonObject()
                            .put("user_id", tenant)
                            .put("query", "lighthouse keeper log")
                            .put("limit", 100)
                            .toBuffer()));
            assertThat(found.getJsonArray("results").stream()
                            .map(f -> ((JsonObject) f).getString("file_id"))
                            .toList())
                    .as(found.encode())
                    .containsExactlyInAnyOrderElementsOf(ids);
            assertThat(found.getInteger("excluded")).isZero();
        }
    }

    private static JsonObject deploymentDocument(Node node) {
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            return raw.findOne(
                            PartitionCount.COLLECTION,
                            new JsonObject().put(PartitionCount.ID, PartitionCount.KEY),
                            null)
                    .await();
        } finally {
            raw.close().await();
        }
    }

    @Test
    @DisplayName("The first node records its SYNC_PARTITIONS; a node of another count on the same database refuses"
            + " to start naming both counts, and a node of the recorded count starts and finds every file")
    void anotherCountIsRefused() {
        Node four = node(4);
        String firstNode = four.config().nodeId();
        List<String> ids;
        try {
            ids = uploadOnFour(four);
        } finally {
            four.stop().await();
        }

        Throwable refused = refusal(database, 8);
        assertThat(refused).as("a node of 8 partitions on data written with 4").isInstanceOf(ConfigException.class);
        assertThat(((ConfigException) refused).key()).isEqualTo("SYNC_PARTITIONS");
        assertThat(refused.getMessage())
                .contains("SYNC_PARTITIONS is 8")
                .contains("written with 4 partitions")
                .contains("changing the partition count of existing data is not supported")
                .contains("set SYNC_PARTITIONS back to 4");

        Node again = node(4);
        try {
            allThere(again, ids);
            JsonObject recorded = deploymentDocument(again);
            assertThat(recorded.getInteger(PartitionCount.PARTITIONS)).isEqualTo(4);
            assertThat(recorded.getString(PartitionCount.BASIS)).isEqualTo(PartitionCount.EMPTY);
            assertThat(recorded.getString(PartitionCount.RECORDED_BY)).isEqualTo(firstNode);
        } finally {
            again.stop().await();
        }
    }

    @Test
    @DisplayName("A database with file records and no recorded count (a deployment from before the check): a node"
            + " whose count the sampled records disagree with refuses, naming the count they agree with; a node"
            + " of their count starts and records it")
    void databaseWithoutRecordedCountIsSampled() {
        Node four = node(4);
        List<String> ids;
        try {
            ids = uploadOnFour(four);
            // What a deployment from before the check holds: records, and no recorded count.
            MongoClient raw = MongoClient.create(
                    four.vertx(), MongoMetadataStore.clientConfig(four.config().mongo()));
            try {
                raw.removeDocument(
                                PartitionCount.COLLECTION, new JsonObject().put(PartitionCount.ID, PartitionCount.KEY))
                        .await();
            } finally {
                raw.close().await();
            }
        } finally {
            four.stop().await();
        }

        Throwable refused = refusal(database, 8);
        assertThat(refused).as("a node of 8 partitions on records of 4").isInstanceOf(ConfigException.class);
        assertThat(((ConfigException) refused).key()).isEqualTo("SYNC_PARTITIONS");
        assertThat(refused.getMessage())
                .contains("SYNC_PARTITIONS is 8")
                .contains("of the " + ids.size() + " file records sampled")
                .contains("the records sampled agree with 4")
                .contains("changing the partition count of existing data is not supported");

        Node again = node(4);
        try {
            JsonObject recorded = deploymentDocument(again);
            assertThat(recorded.getInteger(PartitionCount.PARTITIONS)).isEqualTo(4);
            assertThat(recorded.getString(PartitionCount.BASIS)).isEqualTo(PartitionCount.SAMPLED);
            assertThat(recorded.getInteger(PartitionCount.SAMPLED_RECORDS)).isEqualTo(ids.size());
            allThere(again, ids);
        } finally {
            again.stop().await();
        }
        // Recorded now: a node of 8 is refused by the record.
        assertThat(refusal(database, 8).getMessage()).contains("set SYNC_PARTITIONS back to 4");
    }

    @Test
    @DisplayName("The command line refuses a SYNC_PARTITIONS other than the recorded count with one line naming"
            + " the key, both counts and what to set, exit code 2 and no stack trace, as any configuration mistake")
    void commandLineRefusalIsOneLineAndExitTwo() throws Exception {
        TrisyncConfig shared = TestStack.config();
        Vertx vertx = Vertx.vertx();
        try {
            MongoClient raw = MongoClient.create(
                    vertx,
                    MongoMetadataStore.clientConfig(
                            new TrisyncConfig.MongoConfig(shared.mongo().uri(), database, "majority")));
            try {
                raw.insert(
                                PartitionCount.COLLECTION,
                                new JsonObject()
                                        .put(PartitionCount.ID, PartitionCount.KEY)
                                        .put(PartitionCount.PARTITIONS, 4)
                                        .put(PartitionCount.RECORDED_AT, "2026-01-01T00:00:00Z")
                                        .put(PartitionCount.RECORDED_BY, "first-node")
                                        .put(PartitionCount.BASIS, PartitionCount.EMPTY)
                                        .put(PartitionCount.SAMPLED_RECORDS, 0))
                        .await();
            } finally {
                raw.close().await();
            }
        } finally {
            vertx.close().await();
        }

        ProcessBuilder pb = ChildJvm.java(List.of(), Main.class.getName());
        Path out = Files.createTempFile("partition-count-out", ".log");
        Path err = Files.createTempFile("partition-count-err", ".log");
        pb.redirectErrorStream(false).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CONFIG_FILE");
        pb.environment()
                .putAll(Map.of(
                        "DATA_DIR", TestStack.tempDir("trisync-partitions").toString(),
                        "HTTP_PORT", String.valueOf(ChildJvm.freePort()),
                        "AUTH_ENABLED", "false",
                        "MONGO_URI", shared.mongo().uri(),
                        "MONGO_DB", database,
                        "S3_ENDPOINT", shared.s3().endpoint(),
                        "QDRANT_HOST", shared.qdrant().host(),
                        "QDRANT_PORT", String.valueOf(shared.qdrant().port()),
                        "SYNC_PARTITIONS", "8"));
        Process p = pb.start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            ChildJvm.kill(p, "a node of 8 partitions on data recorded as 4");
        }
        String stdout = Files.readString(out);
        assertThat(ended).as("the node exited; its output: %s", stdout).isTrue();
        assertThat(Files.readString(err).trim())
                .isEqualTo("SYNC_PARTITIONS is 8, but this deployment's data was written with 4 partitions"
                        + " (recorded 2026-01-01T00:00:00Z by first-node in MongoDB " + PartitionCount.COLLECTION
                        + "): changing the partition count of existing data is not supported;"
                        + " set SYNC_PARTITIONS back to 4");
        assertThat(stdout).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(p.exitValue()).isEqualTo(2);
    }
}
