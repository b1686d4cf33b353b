package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.MultipartBody;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** Uploads and deletes over HTTP against one node on the embedded stores, checked through the real clients. */
@Timeout(300)
class IngestIT {

    private static Node node;
    private static Stores stores;
    private static Http http;

    @BeforeAll
    static void start() {
        node = Node.start(TestStack.nodeConfig(Map.of("INGEST_MAX_FILE_BYTES", "1000000")), false)
                .await();
        stores = node.stores();
        http = new Http(node.vertx(), node.httpPort());
    }

    @AfterAll
    static void stop() {
        http.close();
        node.stop().await();
    }

    private static JsonObject uploadOk(String tenant, String name, String type, byte[] bytes) {
        HttpResponse<Buffer> r = http.upload(tenant, name, type, bytes, null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject();
    }

    /** Blob bytes and sha256, active metadata, and exactly one point per chunk, through the real clients. */
    private static FileRecord assertStored(JsonObject file, byte[] bytes) {
        String id = file.getString("id");
        FileRecord record = stores.metadata().get(id).await();
        assertThat(record.status()).isEqualTo(FileRecord.Status.ACTIVE);
        assertThat(record.size()).isEqualTo(bytes.length);
        assertThat(record.sha256()).isEqualTo(Fixtures.sha256(bytes)).isEqualTo(file.getString("sha256"));
        String key = StoreKeys.blobKey(record.tenantId(), record.partition(), id);
        assertThat(stores.blobs().getBytes(key).await().getBytes()).isEqualTo(bytes);
        assertThat(stores.blobs().head(key).await().sha256()).isEqualTo(record.sha256());
        int chunks = record.embedding().chunks();
        assertThat(file.getInteger("chunks")).isEqualTo(chunks);
        assertThat(stores.vectors().count(record.tenantId(), id).await()).isEqualTo(chunks);
        List<UUID> ids = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            ids.add(StoreKeys.chunkPointId(id, c));
        }
        List<ChunkPoint> points = stores.vectors().get(ids).await();
        assertThat(points).hasSize(chunks);
        assertThat(points).allSatisfy(p -> {
            assertThat(p.vector()).hasSize(384);
            assertThat(p.model()).isEqualTo("all-minilm-l6-v2-q");
            assertThat(p.contentSha256()).isEqualTo(record.sha256());
            assertThat(p.partition()).isEqualTo(record.partition());
        });
        return record;
    }

    @Test
    @DisplayName("Uploads sent whole with their length or chunked, held in memory up to 64 KiB and spooled above,"
            + " are stored byte for byte, and the completing step reads none back from S3")
    void smallBodiesInMemoryLargerOnesSpooled() throws Exception {
        String tenant = TestStack.unique("bodies");
        Random random = new Random(7);
        double downloads = s3Downloads();
        Path spool = node.config().dataDir().toAbsolutePath().resolve("uploads");
        // 1 B and 60 KiB are read into memory, sent whole or chunked (as Vert.x's client sends forms); 100 KiB
        // is spooled from its 64th KiB and put from memory, 300 KiB spooled and put from the file.
        Map<JsonObject, byte[]> uploaded = new LinkedHashMap<>();
        try (WatchService watch = spool.getFileSystem().newWatchService()) {
            spool.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            for (int size : new int[] {1, 60 * 1024, 100 * 1024, 300 * 1024}) {
                byte[] bytes = new byte[size];
                random.nextBytes(bytes);
                HttpResponse<Buffer> whole =
                        http.uploadWithLength(tenant, "w" + size + ".bin", "application/octet-stream", bytes);
                assertThat(whole.statusCode()).as(whole.bodyAsString()).isEqualTo(201);
                uploaded.put(whole.bodyAsJsonObject(), bytes);
                assertThat(createdIn(spool, watch))
                        .as("spool files of %s bytes sent whole", size)
                        .hasSize(size <= 60 * 1024 ? 0 : 1);
                uploaded.put(uploadOk(tenant, "c" + size + ".bin", "application/octet-stream", bytes), bytes);
                assertThat(createdIn(spool, watch))
                        .as("spool files of %s bytes sent chunked", size)
                        .hasSize(size <= 60 * 1024 ? 0 : 1);
            }
        }
        assertThat(s3Downloads() - downloads)
                .as("each completing step had the bytes its node received")
                .isZero();
        uploaded.forEach(IngestIT::assertStored);
        Await.until("every spool file removed once its request ended", 10_000, () -> {
            try (var left = Files.list(spool)) {
                return left.findAny().isEmpty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    @DisplayName("A small upload that asks for 100-continue gets it before it sends its body")
    void expectContinueIsAnswered() {
        MultipartBody body = MultipartBody.of(
                Map.of("user_id", TestStack.unique("expect")), "file", "e.txt", "text/plain", Fixtures.utf8("hello"));
        String head = "POST /api/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + body.contentType()
                + "\r\nContent-Length: " + body.buffer().length() + "\r\nExpect: 100-continue\r\n\r\n";
        RawHttp.Reply interim = RawHttp.exchange(node.httpPort(), head.getBytes(StandardCharsets.US_ASCII), 5_000);
        assertThat(interim.status()).as("the answer to the headers alone").isEqualTo(100);
    }

    /**
     * The files created in {@code dir} since the last call: everything {@code watch} saw before a
     * marker file this creates (the watch service reports a directory's events in order).
     */
    private static List<String> createdIn(Path dir, WatchService watch) throws Exception {
        Path marker = Files.createFile(dir.resolve("marker-" + UUID.randomUUID()));
        List<String> created = new ArrayList<>();
        while (true) {
            WatchKey key = watch.poll(30, TimeUnit.SECONDS);
            assertThat(key).as("the marker's event").isNotNull();
            for (WatchEvent<?> event : key.pollEvents()) {
                if (marker.getFileName().equals(event.context())) {
                    key.reset();
                    Files.delete(marker);
                    return created;
                }
                created.add(String.valueOf(event.context()));
            }
            key.reset();
        }
    }

    /** Blob downloads the node has made so far. */
    private static double s3Downloads() {
        return Metrics.of(node.config())
                .registry()
                .find("trisync.store.request.duration")
                .tag("operation", "GetObject")
                .timers()
                .stream()
                .mapToDouble(t -> t.count())
                .sum();
    }

    @Test
    @DisplayName("Text, Markdown, HTML and PDF uploads land in all three stores with one point per chunk")
    void uploadsEveryKindOfText() {
        String tenant = TestStack.unique("t");
        byte[] text = utf8(Fixtures.prose(400));
        byte[] markdown = utf8("# Contracts\n\n" + Fixtures.prose(120) + "\n\n- item one\n- item two");
        byte[] html =
                utf8("<html><head><title>x</title><script>var hidden = 1;</script></head><body><h1>Invoices</h1><p>"
                        + Fixtures.prose(60) + "</p></body></html>");
        byte[] pdf = Fixtures.pdf("Supplier agreement for the year", "Payment within thirty days of invoice");
        FileRecord t = assertStored(uploadOk(tenant, "notes.txt", "text/plain", text), text);
        FileRecord m = assertStored(uploadOk(tenant, "readme.md", "text/markdown", markdown), markdown);
        FileRecord h = assertStored(uploadOk(tenant, "page.html", "text/html", html), html);
        FileRecord p = assertStored(uploadOk(tenant, "contract.pdf", "application/pdf", pdf), pdf);
        assertThat(t.embedding().chunks()).isEqualTo(4);
        assertThat(m.embedding().chunks()).isEqualTo(1);
        assertThat(h.embedding().chunks()).isEqualTo(1);
        assertThat(p.embedding().chunks()).isEqualTo(1);
        byte[] binary = new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0x80};
        FileRecord b = assertStored(uploadOk(tenant, "blob.bin", "application/octet-stream", binary), binary);
        assertThat(b.embedding().chunks()).isZero();
        // Put from memory up to the limit, streamed from the spool file above it: both whole.
        for (int size : new int[] {Receiver.IN_MEMORY_PUT_BYTES, Receiver.IN_MEMORY_PUT_BYTES + 1}) {
            byte[] large = new byte[size];
            new Random(size).nextBytes(large);
            assertStored(uploadOk(tenant, "large-" + size + ".bin", "application/octet-stream", large), large);
        }
    }

    @Test
    @DisplayName("A PDF whose text cannot be extracted is stored with its failure, announced as embedding.failed,"
            + " logged, and scanned as an error, never synced")
    void extractionFailureIsVisible() {
        String tenant = TestStack.unique("t");
        byte[] broken = utf8("%PDF-1.7 garbage");
        byte[] binary = new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2};
        byte[] text = utf8(Fixtures.prose(50));
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger uploads = (Logger) LoggerFactory.getLogger(UploadFlow.class);
        log.start();
        uploads.addAppender(log);
        JsonObject file;
        try {
            file = uploadOk(tenant, "broken.pdf", "application/pdf", broken);
        } finally {
            uploads.detachAppender(log);
        }
        String id = file.getString("id");
        String reason = file.getString("embedding_error");
        assertThat(reason).startsWith("PDFBox cannot read the PDF: ");
        assertThat(file.getString("status")).isEqualTo("active");
        assertThat(file.getInteger("chunks")).isZero();

        FileRecord record = assertStored(file, broken);
        assertThat(record.embedding().failure()).isEqualTo(reason);
        assertThat(record.embedding().chunks()).isZero();
        assertThat(http.get("/api/files/" + id + "/content?user_id=" + tenant)
                        .bodyAsBuffer()
                        .getBytes())
                .as("the user's bytes are kept")
                .isEqualTo(broken);
        assertThat(http.get("/api/files/" + id + "?user_id=" + tenant)
                        .bodyAsJsonObject()
                        .getString("embedding_error"))
                .isEqualTo(reason);
        assertThat(log.list)
                .filteredOn(e -> e.getLevel() == Level.WARN)
                .singleElement()
                .extracting(ILoggingEvent::getFormattedMessage)
                .asString()
                .contains(id, tenant, "broken.pdf", reason);

        JsonArray events = http.get("/api/sync/events/recent?limit=100&user_id=" + tenant)
                .bodyAsJsonObject()
                .getJsonArray("events");
        assertThat(events.stream().map(e -> ((JsonObject) e).getString("type")))
                .containsExactly("embedding.failed", "file.uploaded");
        JsonObject failed = events.getJsonObject(0);
        assertThat(failed.getString("fileId")).isEqualTo(id);
        assertThat(failed.getJsonObject("data").getString("reason")).isEqualTo(reason);
        assertThat(failed.getJsonObject("data").getString("model")).isEqualTo("all-minilm-l6-v2-q");

        String image = uploadOk(tenant, "logo.png", "image/png", binary).getString("id");
        uploadOk(tenant, "notes.txt", "text/plain", text);
        assertThat(stores.metadata().get(image).await().embedding().failure())
                .as("an image has no text to extract: not a failure")
                .isNull();
        HttpResponse<Buffer> scan = http.post(
                "/api/sync/analyze",
                "application/json",
                Buffer.buffer(new JsonObject().put("user_id", tenant).encode()));
        assertThat(scan.statusCode()).as(scan.bodyAsString()).isEqualTo(200);
        JsonObject report = scan.bodyAsJsonObject();
        JsonObject summary = report.getJsonObject("summary");
        assertThat(summary.getLong("total_files")).isEqualTo(3);
        assertThat(summary.getLong("error")).isEqualTo(1);
        assertThat(summary.getLong("synced")).as("the image and the text").isEqualTo(2);
        assertThat(summary.getJsonObject("issues_by_type").getLong("EMBEDDING_FAILED"))
                .isEqualTo(1);
        assertThat(report.getJsonArray("issues")).hasSize(1);
        JsonObject issue = report.getJsonArray("issues").getJsonObject(0);
        assertThat(issue.getString("type")).isEqualTo("EMBEDDING_FAILED");
        assertThat(issue.getString("file_id")).isEqualTo(id);
        assertThat(issue.getJsonObject("details").getString("reason")).isEqualTo(reason);
        assertThat(issue.getString("suggested_action")).contains("re-upload a readable version");
        assertThat(stores.metadata().get(id).await().sync().verdict()).isEqualTo("error");
    }

    @Test
    @DisplayName("The model is real: two paraphrases embed closer than unrelated texts")
    void paraphrasesAreCloser() {
        String tenant = TestStack.unique("t");
        String a = uploadOk(tenant, "a.txt", "text/plain", utf8("The cat sat quietly on the mat."))
                .getString("id");
        String b = uploadOk(tenant, "b.txt", "text/plain", utf8("A cat was sitting calmly on the rug."))
                .getString("id");
        String c = uploadOk(tenant, "c.txt", "text/plain", utf8("Quarterly tax filing deadlines for corporations."))
                .getString("id");
        List<ChunkPoint> points = stores.vectors()
                .get(List.of(StoreKeys.chunkPointId(a, 0), StoreKeys.chunkPointId(b, 0), StoreKeys.chunkPointId(c, 0)))
                .await();
        float[] va = vectorOf(points, a);
        float[] vb = vectorOf(points, b);
        float[] vc = vectorOf(points, c);
        assertThat(cosine(va, vb)).isGreaterThan(cosine(va, vc) + 0.3);
        assertThat(cosine(va, vb)).isGreaterThan(cosine(vb, vc) + 0.3);
    }

    private static float[] vectorOf(List<ChunkPoint> points, String fileId) {
        return points.stream()
                .filter(p -> p.fileId().equals(fileId))
                .findFirst()
                .orElseThrow()
                .vector();
    }

    private static double cosine(float[] x, float[] y) {
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        return dot / Math.sqrt(nx * ny);
    }

    @Test
    @DisplayName("Delete removes the blob and every point, marks the record deleted, and may be repeated")
    void deleteRemovesEverything() {
        String tenant = TestStack.unique("t");
        JsonObject file = uploadOk(tenant, "doc.txt", "text/plain", utf8(Fixtures.prose(500)));
        String id = file.getString("id");
        FileRecord before = stores.metadata().get(id).await();
        assertThat(before.embedding().chunks()).isGreaterThan(1);

        HttpResponse<Buffer> deleted = http.delete("/api/files/" + id + "?user_id=" + tenant);
        assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(200);
        assertThat(deleted.bodyAsJsonObject().getString("status")).isEqualTo("deleted");
        assertThat(stores.metadata().get(id).await().status()).isEqualTo(FileRecord.Status.DELETED);
        assertThatThrownBy(() -> stores.blobs()
                        .head(StoreKeys.blobKey(tenant, before.partition(), id))
                        .await())
                .isInstanceOf(Failure.NotFound.class);
        assertThat(stores.vectors().count(tenant, id).await()).isZero();

        assertThat(http.delete("/api/files/" + id + "?user_id=" + tenant).statusCode())
                .isEqualTo(200);
        assertThat(http.get("/api/files/" + id + "/content?user_id=" + tenant).statusCode())
                .isEqualTo(404);
        assertThat(http.delete("/api/files/" + id + "?user_id=someone-else").statusCode())
                .isEqualTo(404);
    }

    @Test
    @DisplayName("Deletes of one file sent at the same time all succeed and make one delete operation")
    void concurrentDeletesJoin() {
        String tenant = TestStack.unique("t");
        String id = uploadOk(tenant, "doc.txt", "text/plain", utf8(Fixtures.prose(200)))
                .getString("id");
        WebClient client = WebClient.create(node.vertx());
        try {
            List<Future<HttpResponse<Buffer>>> deletes = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                deletes.add(client.delete(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                        .send());
            }
            Future.all(deletes).await();
            assertThat(deletes).allSatisfy(d -> assertThat(d.result().statusCode())
                    .as(d.result().bodyAsString())
                    .isIn(200, 202));
        } finally {
            client.close();
        }
        assertThat(stores.metadata().get(id).await().status()).isEqualTo(FileRecord.Status.DELETED);
        assertThat(stores.operations().openFor(id).await()).isNull();
        long deleteOps = raw(mongo ->
                mongo.count("ingest_ops", new JsonObject().put("fileId", id).put("kind", "DELETE")));
        assertThat(deleteOps).isEqualTo(1);
    }

    /** One call on a raw client of the node's database. */
    private static <T> T raw(Function<MongoClient, Future<T>> call) {
        MongoClient client = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            return call.apply(client).await();
        } finally {
            client.close().await();
        }
    }

    @Test
    @DisplayName("A file name is stored as sent, with the characters Netty's multipart decoder cleans out of it"
            + " (, : ; =); a tab in it is refused 400 as any control character")
    void fileNamesAsSent() {
        String tenant = TestStack.unique("names");
        for (String name : List.of("Report, final: v1; a=b.txt", "x=1,y=2 (été).csv")) {
            MultipartBody body =
                    MultipartBody.of(Map.of("user_id", tenant), "file", name, "text/plain", utf8("named " + name));
            HttpResponse<Buffer> r = http.post("/api/files", body.contentType(), body.buffer());
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            assertThat(r.bodyAsJsonObject().getString("name")).isEqualTo(name);
            assertThat(stores.metadata()
                            .get(r.bodyAsJsonObject().getString("id"))
                            .await()
                            .name())
                    .isEqualTo(name);
        }
        MultipartBody tab = MultipartBody.of(Map.of("user_id", tenant), "file", "a\tb.txt", "text/plain", utf8("x"));
        HttpResponse<Buffer> refused = http.post("/api/files", tab.contentType(), tab.buffer());
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(400);
        assertThat(refused.bodyAsJsonObject().getString("message")).contains("file name");
    }

    @Test
    @DisplayName("A text part declaring its charset is read and served in it (a Latin-1 file was 'not valid UTF-8',"
            + " the charset dropped), found by search and by its media type; the declared type beats the name")
    void declaredCharsetAndType() {
        String tenant = TestStack.unique("kinds");
        byte[] latin1 = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e recipe".getBytes(StandardCharsets.ISO_8859_1);
        MultipartBody body = MultipartBody.of(
                Map.of("user_id", tenant), "file", "menu.txt", "text/plain; charset=iso-8859-1", latin1);
        HttpResponse<Buffer> r = http.post("/api/files", body.contentType(), body.buffer());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        JsonObject file = r.bodyAsJsonObject();
        assertThat(file.getString("indexing")).as(file.encode()).isEqualTo("indexed");
        assertThat(file.getInteger("chunks")).isEqualTo(1);
        assertThat(file.getString("content_type")).isEqualTo("text/plain; charset=iso-8859-1");
        HttpResponse<Buffer> download = http.get("/api/files/" + file.getString("id") + "/content?user_id=" + tenant);
        // As S3 gives it back (s3proxy writes it without the blank, in lower case).
        assertThat(download.getHeader("Content-Type").replace(" ", ""))
                .isEqualToIgnoringCase("text/plain;charset=ISO-8859-1");
        assertThat(download.body().getBytes()).isEqualTo(latin1);
        JsonObject hit = onlyHit(new JsonObject()
                .put("user_id", tenant)
                .put("query", "cr\u00e8me br\u00fbl\u00e9e")
                .put("content_types", new JsonArray().add("text/plain")));
        assertThat(hit.getString("text")).contains("cr\u00e8me br\u00fbl\u00e9e");

        // A charset the part itself did not declare is not taken: Netty gives a part the request's
        // charset, or ISO-8859-1 for 'Content-Transfer-Encoding: 8bit'.
        String boundary = "b0undary";
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"utf8.txt\"\r\n"
                + "Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
        Buffer eightBit = Buffer.buffer(head)
                .appendBytes(utf8("cr\u00e8me fra\u00eeche"))
                .appendString("\r\n--" + boundary + "--\r\n");
        HttpResponse<Buffer> plain = http.post(
                "/api/files", "multipart/form-data; boundary=" + boundary + "; charset=windows-1252", eightBit);
        assertThat(plain.statusCode()).as(plain.bodyAsString()).isEqualTo(201);
        assertThat(plain.bodyAsJsonObject().getString("content_type")).isEqualTo("text/plain");
        assertThat(plain.bodyAsJsonObject().getString("indexing")).isEqualTo("indexed");

        // Sent as text under a .pdf name: read as the text it is (it was 'PDFBox cannot read the PDF').
        JsonObject named = uploadOk(tenant, "notes.pdf", "text/plain", utf8("plain notes, not a PDF"));
        assertThat(named.getString("indexing")).as(named.encode()).isEqualTo("indexed");
        assertThat(named.getInteger("chunks")).isEqualTo(1);
    }

    @Test
    @DisplayName("A Word document is read, chunked and found by search (it was stored with no text: a kind"
            + " without any)")
    void wordDocumentIsRead() {
        String tenant = TestStack.unique("docx");
        JsonObject file = uploadOk(
                tenant,
                "minutes.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                Fixtures.docx("Board minutes", "The board approved the lighthouse restoration budget."));
        assertThat(file.getString("indexing")).as(file.encode()).isEqualTo("indexed");
        assertThat(file.getInteger("chunks")).isEqualTo(1);
        JsonObject hit = onlyHit(new JsonObject().put("user_id", tenant).put("query", "lighthouse restoration"));
        assertThat(hit.getString("text")).contains("lighthouse restoration budget");
    }

    @Test
    @DisplayName("An Excel 97-2003 workbook is read, chunked and found by search (it was stored with no text), also"
            + " when sent as octet-stream under another name")
    void legacyWorkbookIsRead() {
        String tenant = TestStack.unique("xls");
        byte[] book = Fixtures.xls("Harbour survey", "The council funded the breakwater repairs in spring.");
        JsonObject file = uploadOk(tenant, "survey.xls", "application/vnd.ms-excel", book);
        assertThat(file.getString("indexing")).as(file.encode()).isEqualTo("indexed");
        assertThat(file.getInteger("chunks")).isEqualTo(1);
        JsonObject hit = onlyHit(new JsonObject().put("user_id", tenant).put("query", "breakwater repairs"));
        assertThat(hit.getString("text"))
                .isEqualTo("Harbour survey The council funded the breakwater repairs in spring.");

        String other = TestStack.unique("xls");
        JsonObject unnamed = uploadOk(other, "upload.bin", "application/octet-stream", book);
        assertThat(unnamed.getInteger("chunks")).as(unnamed.encode()).isEqualTo(1);
    }

    /** The one result of the search {@code request}. */
    private static JsonObject onlyHit(JsonObject request) {
        HttpResponse<Buffer> found = http.post("/api/search", "application/json", Buffer.buffer(request.encode()));
        assertThat(found.statusCode()).as(found.bodyAsString()).isEqualTo(200);
        JsonArray results = found.bodyAsJsonObject().getJsonArray("results");
        assertThat(results.size()).as(found.bodyAsString()).isEqualTo(1);
        return results.getJsonObject(0);
    }

    @Test
    @DisplayName("Retrying an upload with the same Idempotency-Key returns the same file and creates one; the key"
            + " sent with another file is refused 422")
    void idempotentRetry() {
        String tenant = TestStack.unique("t");
        byte[] bytes = utf8("same content, sent twice");
        HttpResponse<Buffer> first = http.upload(tenant, "x.txt", "text/plain", bytes, "key-1");
        HttpResponse<Buffer> second = http.upload(tenant, "x.txt", "text/plain", bytes, "key-1");
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(second.statusCode()).isEqualTo(201);
        assertThat(second.bodyAsJsonObject().getString("id"))
                .isEqualTo(first.bodyAsJsonObject().getString("id"));
        assertThat(stores.metadata().count(FileQuery.tenant(tenant)).await()).isEqualTo(1);
        HttpResponse<Buffer> other = http.upload(tenant, "x.txt", "text/plain", bytes, "key-2");
        assertThat(other.bodyAsJsonObject().getString("id"))
                .isNotEqualTo(first.bodyAsJsonObject().getString("id"));
        assertThat(stores.metadata().count(FileQuery.tenant(tenant)).await()).isEqualTo(2);

        // The key stands for one request: another file (other bytes, or another name) under it is
        // refused 422 and stores nothing, rather than answered with the first file.
        HttpResponse<Buffer> otherBytes = http.upload(tenant, "x.txt", "text/plain", utf8("other content"), "key-1");
        HttpResponse<Buffer> otherName = http.upload(tenant, "y.txt", "text/plain", bytes, "key-1");
        for (HttpResponse<Buffer> reused : List.of(otherBytes, otherName)) {
            assertThat(reused.statusCode()).as(reused.bodyAsString()).isEqualTo(422);
            assertThat(reused.bodyAsJsonObject().getString("error")).isEqualTo("idempotency_key_reused");
            assertThat(reused.bodyAsJsonObject().getString("message")).contains("Idempotency-Key key-1");
        }
        assertThat(stores.metadata().count(FileQuery.tenant(tenant)).await()).isEqualTo(2);
        assertThat(stores.blobs().list(tenant + "/", null, 10, false).await().items())
                .hasSize(2);
    }

    @Test
    @DisplayName("List pages newest first; get and content serve the file; events are logged with per-tenant seq")
    void readsAndEvents() {
        String tenant = TestStack.unique("t");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(uploadOk(tenant, "f" + i + ".md", "text/markdown", utf8("# File " + i))
                    .getString("id"));
        }
        JsonObject page1 = http.get("/api/files?user_id=" + tenant + "&limit=3").bodyAsJsonObject();
        assertThat(page1.getJsonArray("files").stream()
                        .map(f -> ((JsonObject) f).getString("id"))
                        .toList())
                .containsExactly(ids.get(4), ids.get(3), ids.get(2));
        JsonObject page2 = http.get(
                        "/api/files?user_id=" + tenant + "&limit=3&cursor=" + page1.getString("next_cursor"))
                .bodyAsJsonObject();
        assertThat(page2.getJsonArray("files").stream()
                        .map(f -> ((JsonObject) f).getString("id"))
                        .toList())
                .containsExactly(ids.get(1), ids.get(0));

        JsonObject one =
                http.get("/api/files/" + ids.get(0) + "?user_id=" + tenant).bodyAsJsonObject();
        assertThat(one.getString("name")).isEqualTo("f0.md");
        assertThat(one.getString("user_id")).isEqualTo(tenant);
        HttpResponse<Buffer> content = http.get("/api/files/" + ids.get(0) + "/content?user_id=" + tenant);
        assertThat(content.statusCode()).isEqualTo(200);
        assertThat(content.bodyAsString()).isEqualTo("# File 0");
        assertThat(content.getHeader("Content-Type")).startsWith("text/markdown");

        JsonArray events = http.get("/api/sync/events/recent?limit=100&user_id=" + tenant)
                .bodyAsJsonObject()
                .getJsonArray("events");
        assertThat(events).hasSize(10);
        List<Long> seqs =
                events.stream().map(e -> ((JsonObject) e).getLong("seq")).toList();
        assertThat(seqs).containsExactly(10L, 9L, 8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L);
        JsonObject newest = events.getJsonObject(0);
        assertThat(newest.getString("type")).isEqualTo("embedding.created");
        assertThat(newest.getString("fileId")).isEqualTo(ids.get(4));
        assertThat(events.getJsonObject(1).getString("type")).isEqualTo("file.uploaded");
        JsonArray all =
                http.get("/api/sync/events/recent?limit=3").bodyAsJsonObject().getJsonArray("events");
        assertThat(all).hasSize(3);
    }
}
