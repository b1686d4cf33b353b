package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Stores;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every bad upload gets a JSON 4xx naming the problem, and leaves no blob, record, point or open operation. */
@Timeout(300)
class IngestBadInputIT {

    private static final int MAX = 4096;
    private static Node node;
    private static Stores stores;
    private static Http http;

    @BeforeAll
    static void start() {
        node = Node.start(TestStack.nodeConfig(Map.of("INGEST_MAX_FILE_BYTES", String.valueOf(MAX))), false)
                .await();
        stores = node.stores();
        http = new Http(node.vertx(), node.httpPort());
    }

    @AfterAll
    static void stop() {
        http.close();
        node.stop().await();
    }

    private static void assertRejected(HttpResponse<Buffer> r, int status, String mentions) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("error")).isNotBlank();
        assertThat(body.getString("message")).containsIgnoringCase(mentions);
    }

    private static void assertUntouched(String tenant) {
        assertThat(stores.metadata().count(FileQuery.tenant(tenant)).await()).isZero();
        assertThat(stores.blobs().list(tenant + "/", null, 10, false).await().items())
                .isEmpty();
        assertThat(stores.vectors().count(tenant, null).await()).isZero();
        assertThat(stores.operations().countOpen(tenant).await()).isZero();
    }

    @Test
    @DisplayName("Missing, blank and unsafe user_id are 400 naming user_id")
    void rejectsBadUserId() {
        assertRejected(http.upload(null, "a.txt", "text/plain", utf8("x"), null), 400, "user_id");
        assertRejected(http.upload("  ", "a.txt", "text/plain", utf8("x"), null), 400, "user_id");
        for (String bad : new String[] {"a/b", "../etc", "a b", "t*", "ü-tenant", "x".repeat(129)}) {
            assertRejected(http.upload(bad, "a.txt", "text/plain", utf8("x"), null), 400, "user_id");
            assertThat(stores.operations().countOpen(bad).await()).isZero();
        }
    }

    @Test
    @DisplayName("An empty file is 400 and a file over the maximum is 413, leaving nothing behind")
    void rejectsEmptyAndOversizedFiles() {
        String tenant = TestStack.unique("t");
        assertRejected(http.upload(tenant, "empty.txt", "text/plain", new byte[0], null), 400, "empty");
        assertUntouched(tenant);
        assertRejected(http.upload(tenant, "big.txt", "text/plain", new byte[MAX + 1], null), 413, "larger");
        assertUntouched(tenant);
        HttpResponse<Buffer> huge = http.upload(tenant, "huge.txt", "text/plain", new byte[3 * 1024 * 1024], null);
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(huge.bodyAsJsonObject().getString("error")).isEqualTo("payload_too_large");
        assertUntouched(tenant);
    }

    @Test
    @DisplayName("No file part, or a multipart body that is broken or cut short, is 400")
    void rejectsMissingOrMalformedMultipart() {
        String tenant = TestStack.unique("t");
        assertRejected(http.upload(tenant, null, null, null, null), 400, "file");
        HttpResponse<Buffer> garbled = http.post(
                "/api/files",
                "multipart/form-data; boundary=XYZ",
                Buffer.buffer("--XYZ\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                        + "\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"));
        assertThat(garbled.statusCode()).isBetween(400, 499);
        assertThat(garbled.bodyAsJsonObject().getString("error")).isNotBlank();
        // A body that ends inside the file's bytes (no closing boundary) is refused, not waited on.
        HttpResponse<Buffer> cut = http.post(
                "/api/files",
                "multipart/form-data; boundary=XYZ",
                Buffer.buffer("--XYZ\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                        + "\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                        + "Content-Type: text/plain\r\n\r\nhello"));
        assertThat(cut.statusCode()).as(cut.bodyAsString()).isEqualTo(400);
        assertThat(cut.bodyAsJsonObject().getString("message")).contains("ended inside a part");
        // The same beyond 64 KiB, where the part is being spooled when the body ends.
        HttpResponse<Buffer> cutLong = http.post(
                "/api/files",
                "multipart/form-data; boundary=XYZ",
                Buffer.buffer("--XYZ\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                        + "\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                        + "Content-Type: text/plain\r\n\r\n" + "x".repeat(100 * 1024)));
        assertThat(cutLong.statusCode()).as(cutLong.bodyAsString()).isEqualTo(400);
        assertThat(cutLong.bodyAsJsonObject().getString("message")).contains("ended inside a part");
        assertUntouched(tenant);
        assertUntouched(tenant);
    }

    @Test
    @DisplayName("A body that is not multipart (JSON, a URL-encoded form) is 415 naming multipart/form-data and its"
            + " parts; none at all is 400")
    void rejectsBodiesThatAreNotMultipart() {
        String tenant = TestStack.unique("t");
        String takes = "body: this endpoint takes Content-Type: multipart/form-data with the parts user_id, file"
                + " (file: the content, as a file part with a file name)";
        // A JSON body was answered "user_id is required", as if it were a form without that part.
        for (String json : List.of("{}", "{\"user_id\":\"" + tenant + "\"}")) {
            HttpResponse<Buffer> r = http.post("/api/files", "application/json", Buffer.buffer(json));
            assertRejected(r, 415, takes + ", not application/json");
            assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("unsupported_media_type");
        }
        assertRejected(
                http.post(
                        "/api/files",
                        "application/x-www-form-urlencoded",
                        Buffer.buffer("user_id=" + tenant + "&file=hello")),
                415,
                takes + ", not application/x-www-form-urlencoded");
        // A new version takes the same body.
        assertRejected(
                http.put(
                        "/api/files/f-1/content?user_id=" + tenant,
                        "application/json; charset=utf-8",
                        Buffer.buffer("{}")),
                415,
                takes + ", not application/json");
        assertRejected(http.post("/api/files", "application/json", Buffer.buffer()), 400, takes + "; none was sent");
        assertUntouched(tenant);
    }

    @Test
    @DisplayName("A form field other than file and user_id, or user_id twice, is 400 naming it, leaving nothing")
    void rejectsUnknownOrRepeatedFormFields() {
        String tenant = TestStack.unique("t");
        String other = TestStack.unique("t");
        for (Map.Entry<String, List<String>> fields : List.of(
                Map.entry("name", List.of(tenant, "renamed.txt")),
                Map.entry("labels", List.of(tenant, "{\"a\":\"b\"}")),
                Map.entry("user_id", List.of(tenant, other)))) {
            MultipartForm form = MultipartForm.create()
                    .attribute("user_id", fields.getValue().get(0));
            form.attribute(fields.getKey(), fields.getValue().get(1));
            form.binaryFileUpload("file", "a.txt", Buffer.buffer(utf8("hello")), "text/plain");
            HttpResponse<Buffer> r = http.postForm("/api/files", form);
            assertRejected(r, 400, fields.getKey() + ":");
        }
        // The content sent as a text field (no file name): named as such, not as an unknown field.
        HttpResponse<Buffer> text = http.postForm(
                "/api/files",
                MultipartForm.create().attribute("user_id", tenant).attribute("file", "hello"));
        assertRejected(text, 400, "file: send it as a file part");
        // A new version naming one tenant in the query and another in the form.
        MultipartForm form = MultipartForm.create().attribute("user_id", other);
        form.binaryFileUpload("file", "a.txt", Buffer.buffer(utf8("hello")), "text/plain");
        HttpResponse<Buffer> both = http.putForm("/api/files/f-1/content?user_id=" + tenant, form);
        assertRejected(both, 400, "user_id: given twice");
        assertUntouched(tenant);
        assertUntouched(other);
    }

    @Test
    @DisplayName("A multipart type without a boundary, a part naming no field, a text field or a second file sent as"
            + " file parts are 400 naming what is wrong; a media type in capitals is multipart all the same")
    void namesTheMultipartFault() {
        String tenant = TestStack.unique("t");
        String user = "--B\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant + "\r\n";
        String file = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nhello\r\n";
        // Read as a URL-encoded form, it was "--B Content-Disposition: form-data; name: unknown form field".
        HttpResponse<Buffer> noBoundary =
                http.post("/api/files", "multipart/form-data", Buffer.buffer(user + file + "--B--\r\n"));
        assertRejected(noBoundary, 400, "boundary");
        // The decoder's NullPointerException was quoted ("…Attribute.getValue() because nameAttribute is null").
        HttpResponse<Buffer> noName = http.post(
                "/api/files",
                "multipart/form-data; boundary=B",
                Buffer.buffer(user + "--B\r\nContent-Disposition: form-data; filename=\"a.txt\"\r\n\r\nhello\r\n"
                        + "--B--\r\n"));
        assertRejected(noName, 400, "names no field");
        assertThat(noName.bodyAsString()).doesNotContain("nameAttribute").doesNotContain("io.netty");
        // "exactly one multipart field 'file' holding the content is required" was said of both.
        HttpResponse<Buffer> userAsFile = http.post(
                "/api/files",
                "multipart/form-data; boundary=B",
                Buffer.buffer(
                        user.replace("name=\"user_id\"", "name=\"user_id\"; filename=\"u\"") + file + "--B--\r\n"));
        assertRejected(userAsFile, 400, "user_id: sent as a file part");
        HttpResponse<Buffer> twoFiles = http.post(
                "/api/files", "multipart/form-data; boundary=B", Buffer.buffer(user + file + file + "--B--\r\n"));
        assertRejected(twoFiles, 400, "file: given 2 times");
        assertUntouched(tenant);
        // Media types are case-insensitive: this was read as a URL-encoded form (400).
        HttpResponse<Buffer> capitals =
                http.post("/api/files", "Multipart/Form-Data; Boundary=B", Buffer.buffer(user + file + "--B--\r\n"));
        assertThat(capitals.statusCode()).as(capitals.bodyAsString()).isEqualTo(201);
        assertThat(capitals.bodyAsJsonObject().getLong("size")).isEqualTo(5);
    }

    @Test
    @DisplayName(
            "A multipart request or part (before or after the file part) declaring a charset its delimiters cannot be read in (UTF-16, UTF-32)"
                    + " or one the server does not know is 400 naming the Content-Type or the part's field, the charset and"
                    + " those taken (it was \"the multipart body ended inside a part\" or \"user_id is required\"), storing"
                    + " nothing; UTF-16 text sent with no charset is stored")
    void namesTheCharsetItCannotRead() {
        String tenant = TestStack.unique("t");
        String user = "--B\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant + "\r\n";
        String file = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nhello\r\n";
        for (String charset : List.of("utf-16", "UTF-16LE", "utf-32", "bogus")) {
            String unknown = charset.equals("bogus") ? "is not a charset this server knows" : "is not supported";
            var part = http.post(
                    "/api/files",
                    "multipart/form-data; boundary=B",
                    Buffer.buffer(user + file.replace("text/plain", "text/plain; charset=" + charset) + "--B--\r\n"));
            assertRejected(part, 400, "file: the part's charset=" + charset + " " + unknown);
            assertThat(part.bodyAsJsonObject().getString("message")).contains("UTF-8", "ISO-8859-1");
            var request = http.post(
                    "/api/files",
                    "multipart/form-data; boundary=B; charset=" + charset,
                    Buffer.buffer(user + file + "--B--\r\n"));
            assertRejected(request, 400, "Content-Type: charset=" + charset + " " + unknown);
            var field = http.post(
                    "/api/files",
                    "multipart/form-data; boundary=B",
                    Buffer.buffer(
                            user.replace("\r\n\r\n", "\r\nContent-Type: text/plain; charset=" + charset + "\r\n\r\n")
                                    + file
                                    + "--B--\r\n"));
            assertRejected(field, 400, "user_id: the part's charset=" + charset + " " + unknown);
            // The same field after the file part.
            var after = http.post(
                    "/api/files",
                    "multipart/form-data; boundary=B",
                    Buffer.buffer(file
                            + user.replace("\r\n\r\n", "\r\nContent-Type: text/plain; charset=" + charset + "\r\n\r\n")
                            + "--B--\r\n"));
            assertRejected(after, 400, "user_id: the part's charset=" + charset + " " + unknown);
        }
        byte[] utf16 = "The tide table, in UTF-16.".getBytes(StandardCharsets.UTF_16);
        assertRejected(
                http.upload(tenant, "a.txt", "text/plain; charset=utf-16", utf16, null),
                400,
                "file: the part's charset=utf-16 is not supported");
        assertUntouched(tenant);
        // As the refusal says: the bytes stored as sent, read by their byte order mark.
        var stored = http.upload(tenant, "a.txt", "text/plain", utf16, null);
        assertThat(stored.statusCode()).as(stored.bodyAsString()).isEqualTo(201);
        assertThat(stored.bodyAsJsonObject().getLong("size")).isEqualTo(utf16.length);
        assertThat(stored.bodyAsJsonObject().getString("embedding_error")).isNull();
    }

    @Test
    @DisplayName("A multipart file name that is not UTF-8 (Latin-1 bytes) is 400 naming the field, storing nothing"
            + " (it was stored with U+FFFD in place of its bytes); declared by the request's charset, it is read in"
            + " that charset")
    void refusesAFileNameThatIsNotUtf8() {
        String tenant = TestStack.unique("t");
        Buffer body = Buffer.buffer()
                .appendString("--B\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant + "\r\n")
                .appendString("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
                .appendBytes("caf\u00e9.txt".getBytes(StandardCharsets.ISO_8859_1))
                .appendString("\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n");
        var refused = http.post("/api/files", "multipart/form-data; boundary=B", body);
        assertRejected(refused, 400, "file: the part's file name is not UTF-8");
        assertThat(refused.bodyAsJsonObject().getString("message")).contains("filename*=UTF-8''");
        assertUntouched(tenant);
        var declared = http.post("/api/files", "multipart/form-data; boundary=B; charset=iso-8859-1", body);
        assertThat(declared.statusCode()).as(declared.bodyAsString()).isEqualTo(201);
        assertThat(declared.bodyAsJsonObject().getString("name")).isEqualTo("caf\u00e9.txt");
    }

    @Test
    @DisplayName("Unknown file ids are 404; malformed ids and limits are 400")
    void rejectsUnknownAndMalformedIds() {
        String tenant = TestStack.unique("t");
        assertRejected(http.get("/api/files/no-such-file?user_id=" + tenant), 404, "no-such-file");
        assertRejected(http.delete("/api/files/no-such-file?user_id=" + tenant), 404, "no-such-file");
        assertRejected(http.get("/api/files/no-such-file/content?user_id=" + tenant), 404, "no-such-file");
        assertRejected(http.get("/api/files/x%20y?user_id=" + tenant), 400, "file_id");
        assertRejected(http.get("/api/files?user_id=" + tenant + "&limit=abc"), 400, "limit");
        assertRejected(http.get("/api/files?user_id=" + tenant + "&limit=0"), 400, "limit");
        assertRejected(http.get("/api/files"), 400, "user_id");
        assertRejected(http.get("/api/sync/events/recent?limit=-1"), 400, "limit");
        assertUntouched(tenant);
    }
}
