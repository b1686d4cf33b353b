package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.trisync.Node;
import io.trisync.bus.Membership;
import io.trisync.config.TrisyncConfig;
import io.trisync.repair.RepairAddresses;
import io.trisync.store.FileRecord;
import io.trisync.store.ReindexCheckpoints.Checkpoint;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.ChildNode;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.Reindexing;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A re-index whose partition node is killed part way (SIGKILL of its JVM): the coordinator, a
 * clustered node in the test's JVM, sends the partition again to itself once the cluster sees the
 * other node gone, and it goes on from the partition's checkpoint. The result counts the killed
 * node's finished batches too (read from the checkpoints at the end, {@code
 * ReindexTally.settleFromCheckpoints}): before, the answer of the node that finished the partition
 * held only its own batches, and the result lost the first node's.
 *
 * <p>Each node embeds through an embedding server of its own (the same vectors, the same model
 * name), so the test knows which node embedded what and holds the child's requests alone: its first
 * batch is let through, its second held at the kill.
 */
@Timeout(300)
class ReindexPartitionKillIT {

    private static final int FILES = 40;
    private static final int PARTITIONS = 2;
    /** The first batch of a partition (later ones are smaller: see {@link Reindexing#nodeEnv}). */
    private static final int FIRST_BATCH = 8;

    private static final String MODEL = "model-a";
    private static final String CHILD = "reindex-partition-child";
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(ReindexPartitionKillIT.class);

    /** The coordinator's embedder. */
    private final EmbeddingServer server = new EmbeddingServer(384);
    /** The child's embedder. */
    private final EmbeddingServer childServer = new EmbeddingServer(384);

    private final Vertx vertx = Vertx.vertx();
    private final Path dir = TestStack.tempDir("trisync-reindex-partition-kill");
    private final String tenant = TestStack.unique("partition-kill");
    private Node coordinator;
    private ChildNode child;

    @AfterEach
    void stop() {
        if (child != null) {
            child.close();
        }
        if (coordinator != null) {
            coordinator.stop().await();
        }
        childServer.close();
        server.close();
        vertx.close().await();
    }

    @Test
    @DisplayName("SIGKILL of the node running a re-index partition: the partition goes on from its checkpoint on"
            + " another node, and the result counts both nodes' batches")
    void partitionNodeKilled() {
        Map<String, String> env = Reindexing.nodeEnv(server, MODEL);
        env.put("CLUSTER_NAME", TestStack.unique("partition-kill-cluster"));
        env.put("SYNC_PARTITIONS", String.valueOf(PARTITIONS));
        // Both partitions at once: round robin gives one to each node.
        env.put("SYNC_SCAN_PARALLELISM", String.valueOf(PARTITIONS));
        coordinator = Node.start(TestStack.nodeConfig(env), true).await();
        Stores stores = coordinator.stores();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger batchesLog = (Logger) LoggerFactory.getLogger("io.trisync.repair.ReindexBatches");
        log.start();
        batchesLog.addAppender(log);
        try (Http http = new Http(vertx, coordinator.httpPort())) {
            // The files, uploaded while the coordinator is alone: it embeds them.
            long t0 = System.nanoTime();
            Map<Integer, String> ids = new HashMap<>();
            for (int i = 0; i < FILES; i++) {
                HttpResponse<Buffer> r = http.upload(tenant, "doc.txt", "text/plain", Reindexing.marked(i), null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                ids.put(i, r.bodyAsJsonObject().getString("id"));
            }
            Await.until(
                    "every file indexed",
                    60_000,
                    () -> stores.metadata().getAll(List.copyOf(ids.values())).await().stream()
                                    .filter(r -> r.embedding() != null
                                            && !r.embedding().pending())
                                    .count()
                            == FILES);
            Map<Integer, Integer> partitionOf = new HashMap<>();
            for (Map.Entry<Integer, String> e : ids.entrySet()) {
                partitionOf.put(
                        e.getKey(), stores.metadata().get(e.getValue()).await().partition());
            }
            Map<Integer, Long> perPartition =
                    partitionOf.values().stream().collect(Collectors.groupingBy(p -> p, Collectors.counting()));
            // Each partition needs a second batch, to be held on the child at the kill.
            assertThat(perPartition)
                    .as("files by partition")
                    .hasSize(PARTITIONS)
                    .allSatisfy((p, n) -> assertThat(n).isGreaterThan(FIRST_BATCH));

            // The second node: a child JVM in the same cluster on the same stores, embedding with
            // its own server as the same model.
            TrisyncConfig shared = coordinator.config();
            Map<String, String> childEnv = new HashMap<>(env);
            childEnv.putAll(childServer.nodeEnv(MODEL));
            childEnv.put("NODE_ID", CHILD);
            childEnv.putAll(TestStack.storesOf(shared));
            LOG.info("{} files uploaded and indexed in {} ms", FILES, (System.nanoTime() - t0) / 1_000_000);
            long t1 = System.nanoTime();
            child = new ChildNode(dir, childEnv);
            child.start(120, "io.trisync.Main", Map.of(), "--cluster");
            Membership members = Membership.of(coordinator.vertx(), "test");
            Await.until("the child node in the cluster", 60_000, () -> members.liveNames()
                    .contains(CHILD));
            ReplicatedMap<String, Boolean> routes = ((HazelcastClusterManager)
                            ((VertxInternal) coordinator.vertx()).clusterManager())
                    .getHazelcastInstance()
                    .getReplicatedMap("trisync-routes");
            Await.until(
                    "both nodes serving re-index partitions",
                    30_000,
                    () -> routes.keySet().stream()
                                    .filter(k -> k.startsWith(RepairAddresses.REINDEX_PARTITION + "@"))
                                    .count()
                            >= 2);

            LOG.info("Child node started and in the cluster in {} ms", (System.nanoTime() - t1) / 1_000_000);
            long t2 = System.nanoTime();
            // The re-index, asked on the coordinator; the child's embedding requests held.
            childServer.hold();
            int mark = server.inputs().size();
            HttpResponse<Buffer> started = Reindexing.startAll(http, tenant);
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String opId = started.bodyAsJsonObject().getString("id");
            Await.until("the child's first batch at its embedder", 60_000, () -> childServer.held() >= 1);
            // Let it through, and hold what comes after it.
            childServer.release();
            childServer.hold();
            Await.until("the child's first texts embedded", 30_000, () -> !Reindexing.markers(childServer.inputs(), 0)
                    .isEmpty());
            Set<Integer> firstTexts = Reindexing.markers(childServer.inputs(), 0);
            Set<Integer> partitions = firstTexts.stream().map(partitionOf::get).collect(Collectors.toSet());
            assertThat(partitions)
                    .as("partitions of the child's first texts %s", firstTexts)
                    .hasSize(1);
            int childPartition = partitions.iterator().next();
            // Until the child's partition has a checkpoint and its next request waits at the
            // embedder. A request held when no checkpoint is read after it is still the first
            // batch's (it may need more than one): let it on. A request counted as held after the
            // checkpoint is read is the second batch's (a released one stops counting before it is
            // answered, and the checkpoint is written after the answer).
            Checkpoint before = Await.value(
                    "the child's first batch checkpointed and its second held",
                    60_000,
                    () -> {
                        boolean heldBefore = childServer.held() >= 1;
                        Checkpoint cp =
                                stores.checkpoints().get(tenant, childPartition).await();
                        boolean first = cp == null || cp.files() == 0;
                        if (first && heldBefore) {
                            childServer.release();
                            childServer.hold();
                        }
                        return !first && childServer.held() >= 1 ? cp : null;
                    },
                    cp -> cp != null);
            assertThat(before.done())
                    .as("the child's partition done before the kill: %s", before)
                    .isFalse();
            assertThat(before.runs()).containsExactly(opId);
            // What the child embedded, its held request not answered.
            Set<Integer> byChild = Reindexing.markers(childServer.inputs(), 0);
            assertThat(byChild).as("files the child embedded").hasSizeGreaterThanOrEqualTo((int) before.files());

            LOG.info(
                    "Child's partition {} checkpointed at {} files {} ms after the re-index's start; killing it",
                    childPartition,
                    before.files(),
                    (System.nanoTime() - t2) / 1_000_000);
            long t3 = System.nanoTime();
            child.kill();
            Await.until("the coordinator to see the child gone", 30_000, () -> !members.liveNames()
                    .contains(CHILD));
            Await.until("the re-index to complete", 90_000, () -> "completed"
                    .equals(Reindexing.latest(http, tenant).getString("status")));
            LOG.info("Re-index completed {} ms after the kill", (System.nanoTime() - t3) / 1_000_000);
            JsonObject done = Reindexing.latest(http, tenant);
            assertThat(done.getString("id")).isEqualTo(opId);
            JsonObject result = done.getJsonObject("result");

            // The partition was sent again to the coordinator, and went on from the child's checkpoint.
            assertThat(lines(log))
                    .as("the coordinator's re-index log")
                    .anyMatch(l -> l.startsWith("Re-index of " + tenant + " partition " + childPartition
                            + " resumes after file " + before.lastFileId()));
            Set<Integer> byCoordinator = Reindexing.markers(server.inputs(), mark);
            Set<Integer> twice = new HashSet<>(byChild);
            twice.retainAll(byCoordinator);
            assertThat(twice)
                    .as("files of the child's checkpointed batch embedded again")
                    .isEmpty();
            Set<Integer> all = new HashSet<>(byChild);
            all.addAll(byCoordinator);
            assertThat(all).as("files re-embedded by the two nodes").hasSize(FILES);

            // Every file counted once, the killed node's batch included, all by this one run.
            assertThat(result.getLong("files"))
                    .as("files of the whole re-index (%d by the killed child): %s", before.files(), result)
                    .isEqualTo(FILES);
            assertThat(result.getLong("files_this_run"))
                    .as("files of this run: %s", result)
                    .isEqualTo(FILES);
            assertThat(result.getLong("skipped")).as("result %s", result).isZero();
            assertThat(result.getJsonArray("resumed_from"))
                    .as("result %s", result)
                    .isEmpty();
            assertThat(result.getLong("stale_after")).as("result %s", result).isZero();
            // The model's name as the nodes give it (the dimension appended).
            assertThat(result.getString("model")).as("result %s", result).startsWith(MODEL);
            JsonObject progress = done.getJsonObject("progress");
            assertThat(progress.getLong("files_reindexed"))
                    .as("progress %s", progress)
                    .isEqualTo(FILES);

            // The stores, read back with their clients.
            for (FileRecord r :
                    stores.metadata().getAll(List.copyOf(ids.values())).await()) {
                assertThat(r.status()).isEqualTo(FileRecord.Status.ACTIVE);
                assertThat(r.embedding().model()).as("record %s", r.id()).isEqualTo(result.getString("model"));
                assertThat(r.embedding().pending()).as("record %s", r.id()).isFalse();
                assertThat(r.embedding().failure()).as("record %s", r.id()).isNull();
                assertThat(r.embedding().chunks()).as("record %s", r.id()).isPositive();
                assertThat(stores.vectors().count(tenant, r.id()).await())
                        .as("points of %s", r.id())
                        .isEqualTo(r.embedding().chunks());
            }
            assertThat(stores.checkpoints().list(tenant).await())
                    .as("checkpoints after the re-index")
                    .isEmpty();
        } finally {
            batchesLog.detachAppender(log);
        }
    }

    /** What {@code log} caught, each event's message. */
    private static List<String> lines(ListAppender<ILoggingEvent> log) {
        List<ILoggingEvent> events;
        synchronized (log) {
            events = List.copyOf(log.list);
        }
        return events.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
