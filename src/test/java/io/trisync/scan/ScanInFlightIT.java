package io.trisync.scan;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scans while uploads, deletes and new versions are under way: the stores hold such a file half
 * written, and a scan must not report that as an issue. The operations are held after a chosen step
 * by the ingest hooks (not by timing) while the scan runs, then released.
 */
@Timeout(300)
class ScanInFlightIT {

    private static final Map<String, String> SETTINGS = Map.of(
            "SYNC_PARTITIONS", "8",
            // No recovery sweep while operations are held on purpose.
            "INGEST_RECOVERY_INTERVAL_SECONDS", "3600");

    @Test
    @DisplayName("Uploads, deletes and new versions held half way through a full scan are not reported;"
            + " once they complete the tenant has no open issue")
    void operationsInFlightAreNotIssues() throws Exception {
        String tenant = TestStack.unique("t");
        Holds holds = new Holds(
                tenant,
                Map.of(
                        Kind.UPLOAD,
                        Step.BLOB_WRITTEN,
                        Kind.DELETE,
                        Step.METADATA_DELETED,
                        Kind.REPLACE,
                        Step.VECTORS_WRITTEN));
        Node node = Node.start(TestStack.nodeConfig(SETTINGS), false, holds).await();
        WebClient web = client(node);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            List<String> files = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                files.add(uploaded(http, tenant, i));
            }
            awaitNoOperation(s, tenant);
            assertThat(analyze(http, tenant).getJsonArray("issues")).isEmpty();

            // Three uploads held with their blob in S3 and no record, two deletes held with a tombstone
            // beside the blob and points, two new versions held with content and points moved but
            // the record still naming the old content.
            holds.arm(7);
            List<Future<HttpResponse<Buffer>>> uploads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                uploads.add(uploadAsync(web, node, tenant, utf8(Fixtures.prose(300) + " new " + i)));
            }
            List<Future<HttpResponse<Buffer>>> deletes = List.of(
                    web.delete(node.httpPort(), "127.0.0.1", filePath(tenant, files.get(0)))
                            .send(),
                    web.delete(node.httpPort(), "127.0.0.1", filePath(tenant, files.get(1)))
                            .send());
            List<Future<HttpResponse<Buffer>>> replaces = List.of(
                    replaceAsync(web, node, tenant, files.get(2), utf8(Fixtures.prose(500) + " second version")),
                    replaceAsync(web, node, tenant, files.get(3), utf8(Fixtures.prose(500) + " third version")));
            holds.awaitReached();
            assertThat(s.operations().countOpen(tenant).await())
                    .as("held operations")
                    .isEqualTo(7);

            JsonObject during = analyze(http, tenant);
            assertThat(during.getJsonArray("issues"))
                    .as("issues reported while %s were in flight", holds.files)
                    .isEmpty();
            assertThat(during.getJsonObject("summary").getLong("in_flight")).isEqualTo(7);
            assertThat(during.getJsonObject("summary").getLong("total_files"))
                    .as("the active records (two untouched files, two being replaced)")
                    .isEqualTo(activeRecords(s, tenant))
                    .isEqualTo(4);
            assertThat(s.issues().openFor(tenant, 100).await()).isEmpty();

            holds.release();
            for (Future<HttpResponse<Buffer>> upload : uploads) {
                assertThat(upload.await().statusCode())
                        .as(upload.await().bodyAsString())
                        .isEqualTo(201);
            }
            for (Future<HttpResponse<Buffer>> done : deletes) {
                assertThat(done.await().statusCode())
                        .as(done.await().bodyAsString())
                        .isEqualTo(200);
            }
            for (Future<HttpResponse<Buffer>> done : replaces) {
                assertThat(done.await().statusCode())
                        .as(done.await().bodyAsString())
                        .isEqualTo(200);
            }
            awaitNoOperation(s, tenant);

            JsonObject status = http.get("/api/sync/status/" + tenant).bodyAsJsonObject();
            assertThat(status.getJsonObject("summary").getLong("open_issues")).isZero();
            JsonObject after = analyze(http, tenant);
            assertThat(after.getJsonArray("issues")).isEmpty();
            assertThat(after.getJsonObject("summary").getLong("in_flight")).isZero();
            assertThat(after.getJsonObject("summary").getLong("total_files"))
                    .isEqualTo(after.getJsonObject("summary").getLong("synced"))
                    .isEqualTo(activeRecords(s, tenant))
                    .isEqualTo(7);
            assertThat(count(s, tenant, "sync.issue_detected")).isZero();
        } finally {
            holds.release();
            web.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("An upload that completes between the listings and the verdict is confirmed whole, not an orphan")
    void confirmsCandidatesAgainstAFreshLook() throws Exception {
        String tenant = TestStack.unique("t");
        Holds holds = new Holds(tenant, Map.of(Kind.UPLOAD, Step.BLOB_WRITTEN));
        Node node = Node.start(TestStack.nodeConfig(SETTINGS), false, holds).await();
        WebClient web = client(node);
        try {
            Stores s = node.stores();
            holds.arm(1);
            Future<HttpResponse<Buffer>> upload = uploadAsync(web, node, tenant, utf8(Fixtures.prose(300)));
            holds.awaitReached();
            String fileId = holds.files.iterator().next();
            int partition = StoreKeys.partition(fileId, node.config().sync().partitions());
            Reconciler reconciler = new Reconciler();
            PartitionReader reader = new PartitionReader(s, 100);
            Confirmation confirmation = new Confirmation(s, reconciler, reader);

            List<FileReport> listed = onContext(node.vertx(), () -> reader.read(tenant, partition, false)
                    .map(read -> reconciler.reconcile(read.listings())));
            assertThat(listed).singleElement().satisfies(f -> assertThat(f.issues())
                    .extracting(FileReport.Issue::type)
                    .containsExactly(IssueType.ORPHAN_BLOB));
            Confirmation.Judged held =
                    onContext(node.vertx(), () -> confirmation.confirm(tenant, partition, listed, "full"));
            assertThat(held.files()).isEmpty();
            assertThat(held.inFlight()).extracting(FileReport::fileId).containsExactly(fileId);

            // The same listings judged after the upload completed: the fresh look finds the file whole.
            holds.release();
            assertThat(upload.await().statusCode()).isEqualTo(201);
            awaitNoOperation(s, tenant);
            Confirmation.Judged completed =
                    onContext(node.vertx(), () -> confirmation.confirm(tenant, partition, listed, "full"));
            assertThat(completed.inFlight()).isEmpty();
            assertThat(completed.files()).singleElement().satisfies(f -> {
                assertThat(f.fileId()).isEqualTo(fileId);
                assertThat(f.issues()).isEmpty();
                assertThat(f.verdict()).isEqualTo(Verdict.SYNCED);
                assertThat(f.active()).isTrue();
            });
        } finally {
            holds.release();
            web.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("total_files and the verdicts count active files, as status does; deleted files are not counted")
    void countsActiveFilesOnly() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(TestStack.nodeConfig(SETTINGS), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            List<String> files = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                files.add(uploaded(http, tenant, i));
            }
            for (String deleted : files.subList(0, 2)) {
                assertThat(http.delete(filePath(tenant, deleted)).statusCode()).isEqualTo(200);
            }
            s.vectors().deleteFile(tenant, files.get(2)).await();
            awaitNoOperation(s, tenant);

            JsonObject summary = analyze(http, tenant).getJsonObject("summary");
            assertThat(summary.getLong("total_files"))
                    .isEqualTo(activeRecords(s, tenant))
                    .isEqualTo(3);
            assertThat(summary.getLong("synced")).isEqualTo(2);
            assertThat(summary.getLong("missing")).isEqualTo(1);

            JsonObject status =
                    http.get("/api/sync/status/" + tenant).bodyAsJsonObject().getJsonObject("summary");
            for (String verdict : List.of("synced", "out_of_sync", "missing", "error")) {
                assertThat(summary.getLong(verdict)).as(verdict).isEqualTo(status.getLong(verdict));
            }
            assertThat(status.getLong("unchecked")).isZero();

            JsonObject trend = http.get("/api/sync/trends?user_id=" + tenant)
                    .bodyAsJsonObject()
                    .getJsonArray("samples")
                    .getJsonObject(0);
            assertThat(trend.getLong("total_files")).isEqualTo(3);
            assertThat(trend.getDouble("drift_ratio")).isEqualTo(0.3333);
        } finally {
            node.stop().await();
        }
    }

    /**
     * Holds each operation of the tenant of an armed kind after its step until {@link #release}, and
     * notes the files it holds.
     */
    private static final class Holds implements IngestHooks {
        private final String tenant;
        private final Map<Kind, Step> at;
        private final AtomicBoolean armed = new AtomicBoolean();
        private final List<Runnable> held = new ArrayList<>();
        private final AtomicBoolean released = new AtomicBoolean();
        final Set<String> files = ConcurrentHashMap.newKeySet();
        private volatile CountDownLatch reached = new CountDownLatch(0);

        Holds(String tenant, Map<Kind, Step> at) {
            this.tenant = tenant;
            this.at = at;
        }

        void arm(int operations) {
            reached = new CountDownLatch(operations);
            armed.set(true);
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.await(60, TimeUnit.SECONDS))
                    .as("every operation held (%s)", files)
                    .isTrue();
        }

        @Override
        public Future<Void> after(IngestOperation op, Step step) {
            if (!armed.get() || !tenant.equals(op.tenantId()) || at.get(op.kind()) != step) {
                return Future.succeededFuture();
            }
            Context context = Vertx.currentContext();
            Promise<Void> go = Promise.promise();
            synchronized (this) {
                if (released.get()) {
                    return Future.succeededFuture();
                }
                held.add(() -> context.runOnContext(v -> go.complete()));
            }
            files.add(op.fileId());
            reached.countDown();
            return go.future();
        }

        synchronized void release() {
            armed.set(false);
            released.set(true);
            held.forEach(Runnable::run);
            held.clear();
        }
    }

    /** A client with a connection for each request held at once (the default pool has five). */
    private static WebClient client(Node node) {
        return WebClient.create(node.vertx(), new WebClientOptions(), new PoolOptions().setHttp1MaxSize(16));
    }

    private static <T> T onContext(Vertx vertx, Supplier<Future<T>> work) {
        Promise<T> done = Promise.promise();
        vertx.getOrCreateContext().runOnContext(v -> work.get().onComplete(done));
        return done.future().await();
    }

    private static String uploaded(Http http, String tenant, int i) {
        HttpResponse<Buffer> r =
                http.upload(tenant, "f" + i + ".txt", "text/plain", utf8(Fixtures.prose(300) + " " + i), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static Future<HttpResponse<Buffer>> uploadAsync(WebClient web, Node node, String tenant, byte[] bytes) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", tenant)
                .binaryFileUpload("file", "doc.txt", Buffer.buffer(bytes), "text/plain");
        return web.post(node.httpPort(), "127.0.0.1", "/api/files").sendMultipartForm(form);
    }

    private static Future<HttpResponse<Buffer>> replaceAsync(
            WebClient web, Node node, String tenant, String id, byte[] bytes) {
        return web.put(node.httpPort(), "127.0.0.1", "/api/files/" + id + "/content?user_id=" + tenant)
                .sendMultipartForm(
                        MultipartForm.create().binaryFileUpload("file", "v.txt", Buffer.buffer(bytes), "text/plain"));
    }

    private static String filePath(String tenant, String id) {
        return "/api/files/" + id + "?user_id=" + tenant;
    }

    private static JsonObject analyze(Http http, String tenant) {
        var r = http.post(
                "/api/sync/analyze",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("mode", "full")
                        .encode()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /** Uploads are answered at their commit; their end (DONE) follows. */
    private static void awaitNoOperation(Stores s, String tenant) {
        Await.until(
                "every operation of " + tenant + " to end",
                30_000,
                () -> s.operations().countOpen(tenant).await() == 0);
    }

    private static long activeRecords(Stores s, String tenant) {
        return s.metadata()
                .count(new FileQuery(tenant, null, FileRecord.Status.ACTIVE))
                .await();
    }

    private static long count(Stores s, String tenant, String type) {
        return s.events().recent(tenant, 1000).await().stream()
                .filter(e -> type.equals(e.type()))
                .count();
    }
}
