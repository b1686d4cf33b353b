package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(120)
class MongoOperationLogIT {

    private static final Instant LONG_AGO = Instant.parse("2000-01-01T00:00:00Z");

    private MongoClient client;
    private MongoOperationLog log;

    /** A database of the shared server for each test alone: claims are not scoped to a tenant. */
    @BeforeEach
    void ownDatabase(Vertx vertx) {
        client = TestStack.ownDatabase(vertx, "oplog");
        log = new MongoOperationLog(client);
        log.init().await();
    }

    @AfterEach
    void close() {
        client.close().await();
    }

    private static IngestOperation upload(String tenant, String holder, Instant leaseUntil) {
        IngestOperation op = operation(Kind.UPLOAD, tenant, TestStack.unique("f"), "node-a");
        return holder == null ? op : op.withLease(holder, leaseUntil);
    }

    private static IngestOperation operation(Kind kind, String tenant, String fileId, String nodeId) {
        return IngestOperation.begin(
                TestStack.unique("op"),
                kind,
                tenant,
                fileId,
                0,
                "a.txt",
                "text/plain",
                1,
                "00",
                null,
                nodeId,
                null,
                null);
    }

    /** Backdates an operation as if its node had gone quiet long ago. */
    private void backdate(String opId) {
        JsonObject old = new JsonObject().put("$date", LONG_AGO.toString());
        client.updateCollection(
                        MongoOperationLog.OPS,
                        new JsonObject().put("_id", opId),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject().put("updatedAt", old).put("leaseUntil", old)))
                .await();
    }

    @Test
    @DisplayName("An unfinished operation that cannot be read (its kind edited by hand) does not stop the claims:"
            + " it stays claimed, and the next claim takes the operation after it")
    void unreadableOperationDoesNotStopClaims() {
        String tenant = TestStack.unique("t");
        IngestOperation bad = upload(tenant, null, null);
        IngestOperation good = upload(tenant, null, null);
        log.begin(bad).await();
        log.begin(good).await();
        backdate(bad.id());
        backdate(good.id());
        // The bad one is the older: a claim meets it first.
        client.updateCollection(
                        MongoOperationLog.OPS,
                        new JsonObject().put("_id", bad.id()),
                        new JsonObject()
                                .put(
                                        "$set",
                                        new JsonObject()
                                                .put("kind", "ARCHIVE")
                                                .put(
                                                        "updatedAt",
                                                        new JsonObject().put("$date", "1999-01-01T00:00:00Z"))))
                .await();

        IngestOperation claimed = log.claimStale(
                        "node-b", "inc-node-b", Instant.now(), Duration.ofMinutes(10), List.of())
                .await();
        assertThat(claimed).isNotNull();
        assertThat(claimed.id()).isEqualTo(good.id());
        assertThat(log.claimStale("node-c", "inc-node-c", Instant.now(), Duration.ofMinutes(10), List.of())
                        .await())
                .as("both are claimed now: the unreadable one for its lease")
                .isNull();
    }

    @Test
    @DisplayName(
            "Only the lease holder advances or renews an unfinished operation; a claim takes it over; an ended one is held by nobody")
    void leaseConditionalWrites() {
        String tenant = TestStack.unique("t");
        IngestOperation op = upload(tenant, "upload:x", Instant.now().plusSeconds(60));
        log.begin(op).await();

        assertThat(log.renewLease(op.id(), "upload:x", Instant.now().plusSeconds(60), "inc-x")
                        .await())
                .isTrue();
        assertThat(log.advanceIfHeld(op.id(), Step.COMMITTED, "someone-else").await())
                .isFalse();
        assertThat(log.get(op.id()).await().step()).isEqualTo(Step.BEGUN);
        assertThat(log.claimStale("node-b", "inc-node-b", Instant.now(), Duration.ofMinutes(1), List.of())
                        .await())
                .as("a running lease is not claimed")
                .isNull();

        backdate(op.id());
        IngestOperation claimed = log.claimStale(
                        "node-b", "inc-node-b", Instant.now(), Duration.ofMinutes(10), List.of())
                .await();
        assertThat(claimed.id()).isEqualTo(op.id());
        assertThat(claimed.leaseOwner()).isEqualTo("node-b");
        assertThat(log.renewLease(op.id(), "upload:x", Instant.now().plusSeconds(60), "inc-x")
                        .await())
                .as("the old holder lost it")
                .isFalse();
        assertThat(log.advanceIfHeld(op.id(), Step.COMMITTED, "upload:x").await())
                .isFalse();
        assertThat(log.advanceIfHeld(op.id(), Step.COMMITTED, "node-b").await()).isTrue();
        assertThat(log.get(op.id()).await().step()).isEqualTo(Step.COMMITTED);

        log.advance(op.id(), Step.DONE, null).await();
        IngestOperation ended = log.get(op.id()).await();
        assertThat(ended.leaseOwner()).isNull();
        assertThat(client.findOne(MongoOperationLog.OPS, new JsonObject().put("_id", op.id()), null)
                        .await()
                        .containsKey(IngestOperation.LEASE_KEY))
                .isFalse();
        assertThat(log.renewLease(op.id(), "node-b", Instant.now().plusSeconds(60), "inc-x")
                        .await())
                .isFalse();
        assertThat(log.advanceIfHeld(op.id(), Step.ABORTED, "node-b").await()).isFalse();
        assertThat(log.get(op.id()).await().step()).isEqualTo(Step.DONE);
    }

    @Test
    @DisplayName("A flow's retry takes its operation under the lease it holds or when no lease runs, never from"
            + " recovery's running claim; once taken, recovery leaves it; an ended operation is taken by nobody")
    void retryTakesItsOperation() {
        String tenant = TestStack.unique("t");
        IngestOperation op = upload(tenant, "upload:y", Instant.now().plusSeconds(60));
        log.begin(op).await();

        IngestOperation taken = log.take(op.id(), "upload:y", Instant.now().plusSeconds(60), "inc-y")
                .await();
        assertThat(taken.leaseOwner()).as("its own running lease").isEqualTo("upload:y");
        assertThat(taken.incarnation()).isEqualTo("inc-y");
        assertThat(log.take(op.id(), "delete:" + op.id(), Instant.now().plusSeconds(60), "inc-z")
                        .await())
                .as("another's running lease")
                .isNull();

        backdate(op.id());
        IngestOperation claimed = log.claimStale(
                        "node-b", "inc-node-b", Instant.now(), Duration.ofMinutes(10), List.of())
                .await();
        assertThat(claimed.id()).isEqualTo(op.id());
        assertThat(log.take(op.id(), "upload:y", Instant.now().plusSeconds(60), "inc-y")
                        .await())
                .as("recovery's running claim")
                .isNull();
        assertThat(log.get(op.id()).await().leaseOwner()).isEqualTo("node-b");

        backdate(op.id());
        assertThat(log.take(op.id(), "upload:y", Instant.now().plusSeconds(60), "inc-y")
                        .await()
                        .leaseOwner())
                .as("a claim that ran out")
                .isEqualTo("upload:y");
        assertThat(log.claimStale("node-c", "inc-node-c", Instant.now(), Duration.ofMinutes(10), List.of())
                        .await())
                .as("recovery leaves what the retry took")
                .isNull();

        IngestOperation delete = operation(Kind.DELETE, tenant, TestStack.unique("f"), "node-a");
        log.begin(delete).await();
        assertThat(log.take(delete.id(), "delete:" + delete.id(), Instant.now().plusSeconds(60), "inc-y")
                        .await()
                        .leaseOwner())
                .as("an operation with no lease")
                .isEqualTo("delete:" + delete.id());

        log.advance(op.id(), Step.DONE, null).await();
        assertThat(log.take(op.id(), "upload:y", Instant.now().plusSeconds(60), "inc-y")
                        .await())
                .as("an ended operation")
                .isNull();
        assertThat(log.get(op.id()).await().step()).isEqualTo(Step.DONE);
    }

    @Test
    @DisplayName(
            "A file has at most one unfinished operation, found by the file; it is released when the operation ends")
    void oneOpenOperationPerFile() {
        IngestOperation first = upload(TestStack.unique("t"), null, null);
        log.begin(first).await();
        assertThat(log.openFor(first.fileId()).await().id()).isEqualTo(first.id());
        IngestOperation second = operation(Kind.DELETE, first.tenantId(), first.fileId(), "node-b");
        assertThatThrownBy(() -> log.begin(second).await()).isInstanceOf(Failure.Conflict.class);
        assertThat(log.get(first.id()).await().step()).isEqualTo(Step.BEGUN);
        log.advance(first.id(), Step.COMMITTED, null).await();
        assertThat(log.openFor(first.fileId()).await().id()).isEqualTo(first.id());
        log.advance(first.id(), Step.DONE, null).await();
        assertThat(log.openFor(first.fileId()).await()).isNull();
        log.begin(second).await();
        assertThat(log.openFor(first.fileId()).await().id()).isEqualTo(second.id());
        assertThat(log.countOpen(first.tenantId()).await()).isEqualTo(1);
    }

    @Test
    @DisplayName("An upload's commit can free its file: the next operation on the file begins while the upload,"
            + " held by nobody else, is still to end; only its holder can commit it so")
    void commitReleasingFile() {
        IngestOperation upload =
                upload(TestStack.unique("t"), "upload:r", Instant.now().plusSeconds(60));
        log.begin(upload).await();
        assertThat(log.advanceIfHeldReleasingFile(upload.id(), Step.COMMITTED, "someone-else")
                        .await())
                .isFalse();
        assertThat(log.openFor(upload.fileId()).await().id()).isEqualTo(upload.id());

        assertThat(log.advanceIfHeldReleasingFile(upload.id(), Step.COMMITTED, "upload:r")
                        .await())
                .isTrue();
        assertThat(log.openFor(upload.fileId()).await()).isNull();
        assertThat(log.get(upload.id()).await().step()).isEqualTo(Step.COMMITTED);
        IngestOperation delete = operation(Kind.DELETE, upload.tenantId(), upload.fileId(), "node-b");
        log.begin(delete).await();
        assertThat(log.openFor(upload.fileId()).await().id()).isEqualTo(delete.id());
        assertThat(log.countOpen(upload.tenantId()).await())
                .as("the committed upload is still to end, beside the delete")
                .isEqualTo(2);
        log.advance(upload.id(), Step.DONE, null).await();
        assertThat(log.openFor(upload.fileId()).await().id()).isEqualTo(delete.id());
    }

    @Test
    @DisplayName("Log writes sent as one bulk write (as a group commit sends them): a begin it refuses (the file has an"
            + " open operation) fails alone with 409, a fenced step that does not match answers false, the rest land")
    void groupCommit() {
        String tenant = TestStack.unique("t");
        IngestOperation held = upload(tenant, "upload:h", Instant.now().plusSeconds(60));
        IngestOperation other = upload(tenant, "upload:o", Instant.now().plusSeconds(60));
        log.begin(held).await();
        log.begin(other).await();
        IngestOperation first = upload(tenant, null, null);
        IngestOperation upload = upload(tenant, null, null);
        IngestOperation deleteOfIt = operation(Kind.DELETE, tenant, upload.fileId(), "node-b");

        List<Future<Boolean>> f = new LogWrites(client, MongoOperationLog.OPS)
                .writeBatch(List.of(
                        LogWrites.recorded(first),
                        LogWrites.recorded(upload),
                        LogWrites.recorded(deleteOfIt),
                        LogWrites.advancedIfHeld(held.id(), Step.COMMITTED, "upload:h", false),
                        LogWrites.advancedIfHeld(other.id(), Step.COMMITTED, "someone-else", false)))
                .await();
        Future.join(f).otherwiseEmpty().await();

        assertThat(f.get(0).succeeded()).isTrue();
        assertThat(f.get(1).succeeded()).isTrue();
        assertThat(f.get(2).cause()).isInstanceOf(Failure.Conflict.class);
        assertThat(f.get(3).result()).isTrue();
        assertThat(f.get(4).result()).isFalse();
        assertThat(log.get(first.id()).await().step()).isEqualTo(Step.BEGUN);
        assertThat(log.openFor(upload.fileId()).await().id()).isEqualTo(upload.id());
        assertThatThrownBy(() -> log.get(deleteOfIt.id()).await()).isInstanceOf(Failure.NotFound.class);
        assertThat(log.get(held.id()).await().step()).isEqualTo(Step.COMMITTED);
        assertThat(log.get(other.id()).await().step()).isEqualTo(Step.BEGUN);
    }

    @Test
    @DisplayName("Two nodes claiming stale operations at the same time never claim the same one")
    void racingClaimsAreDisjoint() {
        String tenant = TestStack.unique("t");
        Set<String> stale = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            IngestOperation op = upload(tenant, i % 2 == 0 ? "upload:" + i : null, LONG_AGO);
            log.begin(op).await();
            backdate(op.id());
            stale.add(op.id());
        }
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        Future.all(drain(log, "node-a", stale, a), drain(log, "node-b", stale, b))
                .await();
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        assertThat(both).as("claimed by both nodes").isEmpty();
        assertThat(new HashSet<>(a)).hasSize(a.size());
        assertThat(new HashSet<>(b)).hasSize(b.size());
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        assertThat(all).containsAll(stale);
        for (String id : stale) {
            IngestOperation op = log.get(id).await();
            assertThat(log.advanceIfHeld(id, Step.ABORTED, op.leaseOwner()).await())
                    .as("the claimant of " + id + " holds it")
                    .isTrue();
        }
    }

    /** Claims (as {@code owner}) until nothing of {@code wanted} is left to claim. */
    private static Future<Void> drain(MongoOperationLog log, String owner, Set<String> wanted, List<String> got) {
        return log.claimStale(owner, "inc-" + owner, Instant.now(), Duration.ofMinutes(10), List.of())
                .compose(op -> {
                    if (op == null) {
                        return Future.succeededFuture();
                    }
                    if (wanted.contains(op.id())) {
                        got.add(op.id());
                    }
                    return drain(log, owner, wanted, got);
                });
    }
}
