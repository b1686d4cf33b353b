package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.RestartableStores;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the ingest fault tests share: stores that a test may stop and start again (one set per JVM),
 * hooks that stop or hold an operation after a step, recovery sweeps, and checks of what the stores hold.
 */
final class IngestFaultFixture {

    private IngestFaultFixture() {}

    /** The stores of the fault tests, started once per JVM. */
    static RestartableStores stores() {
        return RestartableStores.shared();
    }

    /** A node configuration on {@link #stores()}: a 1 s recovery grace period, no periodic recovery sweep. */
    static TrisyncConfig config() {
        return stores().nodeConfig(
                        Map.of("INGEST_RECOVERY_GRACE_SECONDS", "1", "INGEST_RECOVERY_INTERVAL_SECONDS", "3600"));
    }

    /**
     * A hook that stops the operation of {@code kind} after {@code step} for good, as a crash would,
     * and notes its id in {@code stopped}.
     */
    static IngestHooks crashAfter(Kind kind, Step step, CountDownLatch reached, AtomicReference<String> stopped) {
        return (op, done) -> {
            if (op.kind() == kind && done == step) {
                stopped.set(op.id());
                reached.countDown();
                return Promise.<Void>promise().future();
            }
            return Future.succeededFuture();
        };
    }

    /** Waits until {@code node} finds MongoDB again (its gate lets a probe through every Retry-After). */
    static void awaitMongo(Node node) {
        Await.until("MongoDB to answer again", 20_000, () -> node.stores()
                .ping("mongodb")
                .transform(ar -> Future.succeededFuture(ar.succeeded()))
                .await());
    }

    /** Runs one recovery sweep on {@code node}; returns how many operations it ended. */
    static int sweep(Node node) {
        return node.vertx()
                .eventBus()
                .<JsonObject>request(IngestAddresses.RECOVER, new JsonObject())
                .await()
                .body()
                .getInteger("ended");
    }

    /**
     * Sweeps on {@code node} until operation {@code opId} has ended (a holder that may be alive is
     * claimed only after the 1 s grace period) and returns it as recovery left it.
     */
    static IngestOperation recovered(Node node, String opId) {
        Await.until("recovery to end operation " + opId, 30_000, () -> {
            sweep(node);
            return node.stores().operations().get(opId).await().step().terminal();
        });
        return node.stores().operations().get(opId).await();
    }

    /** Sweeps on {@code node} until {@code tenant} has no open operation; returns how many the sweeps ended. */
    static int recoverTenant(Node node, String tenant) {
        int[] ended = {0};
        Await.until("recovery to end every operation of " + tenant, 30_000, () -> {
            if (node.stores().operations().countOpen(tenant).await() == 0) {
                return true;
            }
            ended[0] += sweep(node);
            return false;
        });
        return ended[0];
    }

    static Future<HttpResponse<Buffer>> uploadAsync(Node node, String tenant, byte[] bytes) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(bytes), "text/plain");
        // The client is held until the answer came: Vert.x closes a client the collector found unreachable.
        WebClient web = WebClient.create(node.vertx());
        return web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .sendMultipartForm(form)
                .andThen(answered -> web.close());
    }

    static void assertNothingLeft(Stores s, String tenant) {
        assertThat(s.metadata().count(FileQuery.tenant(tenant)).await())
                .as("metadata")
                .isZero();
        assertThat(s.blobs().list(tenant + "/", null, 10, false).await().items())
                .as("blobs")
                .isEmpty();
        assertThat(s.vectors().count(tenant, null).await()).as("points").isZero();
        assertThat(s.operations().countOpen(tenant).await())
                .as("open operations")
                .isZero();
    }

    static FileRecord assertComplete(Stores s, String tenant, byte[] bytes) {
        List<FileRecord> files =
                s.metadata().list(FileQuery.tenant(tenant), null, 10).await().items();
        assertThat(files).hasSize(1);
        FileRecord f = files.get(0);
        assertThat(f.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(s.blobs()
                        .getBytes(StoreKeys.blobKey(tenant, f.partition(), f.id()))
                        .await()
                        .getBytes())
                .isEqualTo(bytes);
        assertThat(s.vectors().count(tenant, f.id()).await())
                .isEqualTo(f.embedding().chunks())
                .isPositive();
        // An upload is answered once committed and its events logged; its end follows.
        Await.until(
                "the upload's operation to end",
                10_000,
                () -> s.operations().countOpen(tenant).await() == 0);
        return f;
    }

    static List<String> eventTypes(Stores s, String tenant) {
        return s.events().recent(tenant, 100).await().stream().map(Event::type).toList();
    }

    /** A hook that holds the upload after {@code step} until {@code release} completes. */
    static IngestHooks pauseAfter(Step step, CountDownLatch reached, Promise<Void> release) {
        return pauseAfter(step, reached, release, new AtomicReference<>());
    }

    /** {@link #pauseAfter(Step, CountDownLatch, Promise)}, noting the held operation's id in {@code held}. */
    static IngestHooks pauseAfter(
            Step step, CountDownLatch reached, Promise<Void> release, AtomicReference<String> held) {
        return pauseAfter(Kind.UPLOAD, step, reached, release, held);
    }

    /**
     * A hook that holds each operation of {@code kind} that reaches {@code step} until {@code release}
     * completes (and completes as it does), noting its id in {@code held}.
     */
    static IngestHooks pauseAfter(
            Kind kind, Step step, CountDownLatch reached, Promise<Void> release, AtomicReference<String> held) {
        return (op, done) -> {
            if (op.kind() == kind && done == step) {
                held.set(op.id());
                reached.countDown();
                return release.future();
            }
            return Future.succeededFuture();
        };
    }
}
