package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.trisync.Node;
import io.trisync.bus.Membership;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedMongo;
import io.trisync.store.MongoMetadataStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.Reindexing;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A node stopped gracefully (SIGTERM of its JVM, as an orchestrator stops it) while it runs a
 * re-index ends that operation itself before it exits: read from its stores with nothing else
 * started, the operation has failed with the reason "node … stopped (SIGTERM) while it ran", its
 * tenant's slot is free, its end is in the event log, and its checkpoints are left; started again,
 * the node takes a new re-index of the tenant at once, and that one resumes from the checkpoints.
 */
@Timeout(300)
class GracefulStopIT {

    private static final int FILES = 40;
    private static final String NODE = "graceful-1";
    private final EmbeddingServer server = new EmbeddingServer(384);
    private final Vertx vertx = Vertx.vertx();
    private final Path dir = TestStack.tempDir("trisync-graceful-stop");
    private final String tenant = TestStack.unique("graceful");
    private ChildNode node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
        server.close();
        vertx.close().await();
    }

    private ChildNode node(String model) {
        Map<String, String> env = Reindexing.nodeEnv(server, model);
        env.put("NODE_ID", NODE);
        return new ChildNode(dir, env);
    }

    @Test
    @DisplayName("SIGTERM during a re-index: the operation is failed with the reason before the node exits, the"
            + " tenant's slot is free, and a new re-index starts at once and resumes from the checkpoints")
    void reindexEndedOnStop() {
        node = node("model-a");
        node.start(120);
        try (Http http = new Http(vertx, node.httpPort())) {
            for (int i = 0; i < FILES; i++) {
                HttpResponse<Buffer> r = http.upload(tenant, "doc.txt", "text/plain", Reindexing.marked(i), null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            }
        }
        assertThat(node.terminate(60))
                .as("exit status after SIGTERM with nothing running")
                .isEqualTo(143);

        // The same stores, now embedding with another model, each request answered after 150 ms.
        ChildNode first = node("model-b");
        node = first;
        first.start(120);
        server.delay(150);
        int mark = server.inputs().size();
        String opId;
        try (Http http = new Http(vertx, first.httpPort())) {
            HttpResponse<Buffer> started = Reindexing.start(http, tenant);
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            opId = Reindexing.latest(http, tenant).getString("id");
            Await.until(
                    "a third of the files re-embedded and the progress stored",
                    60_000,
                    () -> Reindexing.markers(server.inputs(), mark).size() >= FILES / 3
                            && Reindexing.latest(http, tenant)
                                            .getJsonObject("progress")
                                            .getLong("current_file")
                                    > 0);
        }
        long before = System.nanoTime();
        int exit = first.terminate(60);
        long stopMillis = (System.nanoTime() - before) / 1_000_000;
        assertThat(exit).as("exit status after SIGTERM (see %s)", first.log()).isEqualTo(143);
        // Read now: the next start of a node on this folder writes the same log file again.
        String stopLog = first.logText();
        Set<Integer> beforeStop = Reindexing.markers(server.inputs(), mark);
        assertThat(beforeStop.size()).as("files re-embedded before the stop").isLessThan(FILES);

        // Nothing of trisync runs now: its MongoDB file read back as the stop left it.
        EmbeddedMongo mongo;
        try {
            mongo = EmbeddedMongo.start(0, first.mongoDir());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        MongoClient raw = MongoClient.create(
                vertx,
                MongoMetadataStore.clientConfig(new io.trisync.config.TrisyncConfig.MongoConfig(
                        mongo.connectionString(), first.storesConfig().mongo().db(), "majority")));
        try {
            JsonObject op = raw.findOne("sync_operations", new JsonObject().put("_id", opId), null)
                    .await();
            assertThat(op.getString("status"))
                    .as("operation %s after the stop", op)
                    .isEqualTo("failed");
            assertThat(op.getString("errorMessage")).isEqualTo("node " + NODE + " stopped (SIGTERM) while it ran");
            assertThat(op.getValue("completedAt")).isNotNull();
            assertThat(op.getJsonObject("result").getBoolean("resumable")).isTrue();
            assertThat(op.getJsonObject("progress").getLong("currentFile"))
                    .as("progress stored with the end")
                    .isPositive();
            assertThat(raw.findOne("sync_tenant_slots", new JsonObject().put("_id", tenant), null)
                            .await())
                    .as("the tenant's slot")
                    .isNull();
            List<JsonObject> events = raw.find(
                            "events",
                            new JsonObject()
                                    .put("tenantId", tenant)
                                    .put("opId", opId)
                                    .put("type", "sync.op_failed"))
                    .await();
            assertThat(events)
                    .as("sync.op_failed of the operation in the event log")
                    .hasSize(1);
            assertThat(events.get(0).getJsonObject("data").getString("reason")).contains("stopped (SIGTERM)");
            List<JsonObject> checkpoints = raw.find("reindex_checkpoints", new JsonObject().put("tenantId", tenant))
                    .await();
            assertThat(checkpoints).as("the re-index's checkpoints").isNotEmpty();
            // The stored progress tells re-embedded files apart, and counts no more than the
            // checkpoints do (each batch reports after its checkpoint is written).
            JsonObject progress = op.getJsonObject("progress");
            assertThat(progress.getLong("filesReindexed"))
                    .as("progress %s", progress)
                    .isEqualTo(progress.getLong("currentFile"));
            assertThat(checkpoints.stream()
                            .mapToLong(c -> c.getLong("files", 0L))
                            .sum())
                    .as("files the checkpoints count: %s", checkpoints)
                    .isGreaterThanOrEqualTo(progress.getLong("filesReindexed"));
            assertThat(stopLog)
                    .contains("Sync " + opId + " of tenant " + tenant + " ended as failed: node " + NODE
                            + " stopped (SIGTERM) while it ran");
        } finally {
            raw.close().await();
            mongo.close();
        }

        ChildNode second = node("model-b");
        node = second;
        second.start(120);
        int mark2 = server.inputs().size();
        JsonObject result;
        try (Http http = new Http(vertx, second.httpPort())) {
            // At once: no wait for a monitor to notice that the previous process is gone.
            HttpResponse<Buffer> again = Reindexing.start(http, tenant);
            assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
            JsonObject startedAgain = again.bodyAsJsonObject();
            assertThat(startedAgain.getJsonObject("progress").getLong("total_files"))
                    .as("the files the whole re-index deals with, told at its start: %s", startedAgain)
                    .isEqualTo(FILES);
            Await.until("the new re-index to complete", 120_000, () -> "completed"
                    .equals(Reindexing.latest(http, tenant).getString("status")));
            result = Reindexing.latest(http, tenant).getJsonObject("result");
            assertThat(result.getLong("stale_after")).isZero();
        }
        Set<Integer> resumed = Reindexing.markers(server.inputs(), mark2);
        // The resumed run reports the whole tenant's figures, of which its own, and the run it went on from.
        assertThat(result.getLong("files")).as("result %s", result).isEqualTo(FILES);
        assertThat(result.getLong("files_this_run")).as("result %s", result).isEqualTo(resumed.size());
        assertThat(result.getJsonArray("resumed_from").getList())
                .as("result %s", result)
                .containsExactly(opId);
        Set<Integer> all = new HashSet<>(beforeStop);
        all.addAll(resumed);
        assertThat(all).as("files re-embedded in the two runs").hasSize(FILES);
        assertThat(resumed.size()).as("files the new run embedded (it resumed)").isLessThan(FILES);
        assertThat(stopMillis).as("the stop's duration (ms)").isLessThan(30_000);
    }

    @Test
    @DisplayName("SIGTERM of a clustered node while another node works for its re-index: that node's late answers"
            + " are not sent after it left, and no log says \"Not a member of the cluster\"")
    void clusteredStopGetsNoLateAnswers() {
        Map<String, String> env = Reindexing.nodeEnv(server, "model-a");
        env.put("CLUSTER_NAME", TestStack.unique("graceful-cluster"));
        // All four partitions at once, spread over the two nodes.
        env.put("SYNC_SCAN_PARALLELISM", "4");
        // The other node runs in this JVM, on the shared test stores, its log read here.
        Node other = Node.start(TestStack.nodeConfig(env), true).await();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        log.start();
        root.addAppender(log);
        try {
            TrisyncConfig stores = other.config();
            Map<String, String> childEnv = new HashMap<>(env);
            childEnv.put("NODE_ID", "graceful-coordinator");
            childEnv.putAll(TestStack.storesOf(stores));
            node = new ChildNode(dir, childEnv);
            node.start(120, "io.trisync.Main", Map.of(), "--cluster");
            Membership members = Membership.of(other.vertx(), "test");
            Await.until("the child node in the cluster", 60_000, () -> members.liveNames()
                    .contains("graceful-coordinator"));
            try (Http http = new Http(vertx, node.httpPort())) {
                for (int i = 0; i < FILES; i++) {
                    HttpResponse<Buffer> r = http.upload(tenant, "doc.txt", "text/plain", Reindexing.marked(i), null);
                    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                }
                server.hold();
                // Started on the child, which coordinates it (an operation runs where it is asked).
                HttpResponse<Buffer> started = Reindexing.startAll(http, tenant);
                assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            }
            // Each partition's first batch waits at the embedder, two of them on the other node.
            Await.until("the four partitions' first batches at the embedder", 60_000, () -> server.held() >= 4);
            assertThat(node.terminate(60))
                    .as("exit status after SIGTERM (see %s)", node.log())
                    .isEqualTo(143);
            Await.until("the other node to see the child gone", 30_000, () -> !members.liveNames()
                    .contains("graceful-coordinator"));
            // The other node's partitions go on, find the re-index ended and have an answer for the child.
            server.release();
            Await.until(
                    "both of the other node's partitions to end (see its log)",
                    60_000,
                    () -> lines(log).stream()
                                    .filter(l -> l.contains("not sent: member") || l.contains("Connecting to server"))
                                    .count()
                            >= 2);
            // Vert.x logs an answer sent to a departed node as "Connecting to server … failed" with
            // "VertxException: Not a member of the cluster" (or a refused connection while it closes).
            assertThat(lines(log).stream()
                            .filter(l ->
                                    l.contains("Not a member of the cluster") || l.contains("Connecting to server"))
                            .toList())
                    .as("the other node's log")
                    .isEmpty();
            assertThat(node.logText()).doesNotContain("Not a member of the cluster");
        } finally {
            root.detachAppender(log);
            other.stop().await();
        }
    }

    /** What {@code log} caught, each event as its message and its exception's. */
    private static List<String> lines(ListAppender<ILoggingEvent> log) {
        List<ILoggingEvent> events;
        synchronized (log) {
            // The appender appends under its own lock.
            events = List.copyOf(log.list);
        }
        return events.stream()
                .map(e -> e.getFormattedMessage()
                        + (e.getThrowableProxy() == null
                                ? ""
                                : " " + e.getThrowableProxy().getClassName() + ": "
                                        + e.getThrowableProxy().getMessage()))
                .toList();
    }
}
