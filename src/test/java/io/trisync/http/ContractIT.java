package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The OpenAPI contract: a node starts only when its routes and the contract are the same set (so
 * this node starting proves it, and every operation answers here with something other than the
 * router's 404); the served document passes {@code @apidevtools/swagger-parser} (installed from npm
 * into {@code src/test/js/openapi-check}); requests that break it are 400 naming the field.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class ContractIT {

    private Node node;
    private Http http;
    private WebClient web;

    @BeforeAll
    void start() {
        node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        http = new Http(node.vertx(), node.httpPort());
        web = WebClient.create(node.vertx());
    }

    @AfterAll
    void stop() {
        web.close();
        http.close();
        node.stop().await();
    }

    @Test
    @DisplayName(
            "Every operation of the served contract is routed (no router 404), and the served routes are the contract's")
    void everyOperationIsServed() {
        JsonObject contract = http.get("/openapi.json").bodyAsJsonObject();
        assertThat(contract.getString("openapi")).isEqualTo("3.1.0");
        List<String> unrouted = new ArrayList<>();
        int operations = 0;
        for (String path : contract.getJsonObject("paths").fieldNames()) {
            for (String method :
                    contract.getJsonObject("paths").getJsonObject(path).fieldNames()) {
                if (method.equals("parameters")) {
                    continue;
                }
                operations++;
                String concrete = path.replaceAll("\\{[^}]+}", "x-missing");
                var r = web.request(HttpMethod.valueOf(method.toUpperCase()), node.httpPort(), "127.0.0.1", concrete)
                        .send()
                        .await();
                if (r.statusCode() == 404 && "no such resource".equals(message(r.bodyAsString()))) {
                    unrouted.add(method + " " + path);
                }
            }
        }
        assertThat(operations).isGreaterThanOrEqualTo(26);
        assertThat(unrouted).isEmpty();
        assertThat(http.get("/openapi.yaml").bodyAsString()).startsWith("openapi: 3.1.0");
    }

    @Test
    @DisplayName("The contract passes @apidevtools/swagger-parser's validation (OpenAPI 3.1 schema and $refs)")
    void externalValidatorAccepts() throws Exception {
        Path dir = Path.of("src/test/js/openapi-check");
        if (!Files.isDirectory(dir.resolve("node_modules/@apidevtools/swagger-parser"))) {
            String install = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
            assertThat(install).isNotNull();
        }
        Path served = Files.createTempFile("openapi", ".json");
        Files.writeString(served, http.get("/openapi.json").bodyAsString());
        String out = run(dir, 60, "node", "validate.mjs", served.toString());
        assertThat(out).contains("valid: trisync", "OpenAPI 3.1.0");
        // The validator is not a rubber stamp: a broken copy is refused.
        Path broken = Files.createTempFile("openapi-broken", ".json");
        JsonObject bad = new JsonObject(Files.readString(served));
        bad.getJsonObject("components")
                .getJsonObject("securitySchemes")
                .getJsonObject("bearer")
                .put("type", "bogus");
        Files.writeString(broken, bad.encode());
        Process p = new ProcessBuilder("node", "validate.mjs", broken.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
    }

    @Test
    @DisplayName("Requests that break the contract are 400 naming the field, before any handler")
    void breakingRequestsNameTheField() {
        assertBad(post("/api/sync/fix", new JsonObject().put("dry_run", "no")), "dry_run");
        assertBad(post("/api/sync/fix", new JsonObject().put("issue_types", List.of("NOT_A_TYPE"))), "issue_types");
        assertBad(post("/api/sync/analyze", new JsonObject().put("mode", "sideways")), "mode");
        assertBad(post("/api/sync/analyze", new JsonObject().put("sample_size", 0)), "sample_size");
        assertBad(post("/api/search", new JsonObject().put("query", "q").put("limit", 500)), "limit");
        assertBad(post("/api/search", new JsonObject().put("query", 7)), "query");
        assertBad(post("/api/v1/sync", new JsonObject().put("kind", "rebuild")), "kind");
        assertBad(post("/api/sync/quarantine/purge", new JsonObject().put("older_than_days", -1)), "older_than_days");
        assertBad(http.get("/api/files?user_id=t&limit=abc"), "limit");
        assertBad(http.get("/api/files?user_id=bad%20id!"), "user_id");
        assertBad(http.get("/api/sync/quarantine?state=lost"), "state");
        assertBad(http.get("/api/v1/sync/operations?status=sleeping"), "status");
        // 33 labels: the validator's own words were "Instance does not have at least 32 properties".
        JsonObject labels = new JsonObject();
        for (int i = 0; i < 33; i++) {
            labels.put("k" + i, "v");
        }
        HttpResponse<Buffer> many = http.patch("/api/files/f-1?user_id=t", new JsonObject().put("labels", labels));
        assertBad(many, "labels");
        assertThat(message(many)).isEqualTo("labels: more than 32 entries (at most 32)");
        // A body the operation requires, not sent: named, with the fields it takes.
        HttpResponse<Buffer> noBody = web.request(HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/f-1")
                .send()
                .await();
        assertThat(noBody.statusCode()).isEqualTo(400);
        assertThat(message(noBody.bodyAsString()))
                .isEqualTo("body: this endpoint takes a JSON object (fields: name, labels) with Content-Type:"
                        + " application/json; none was sent");
        // What the contract allows still reaches the handlers: an empty body is every field defaulted.
        assertThat(http.post("/api/sync/fix", "application/json", Buffer.buffer())
                        .statusCode())
                .isEqualTo(200);
        assertThat(http.post("/api/sync/fix", "application/json", Buffer.buffer("null"))
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    @DisplayName("A JSON body naming a field twice is 400 naming it: which one counts is not guessed")
    void repeatedBodyFieldsAreRefused() {
        // The last was taken: {"user_id": "a", …, "user_id": "b"} acted on b, while anything reading the
        // first would see a.
        HttpResponse<Buffer> twice = http.post(
                "/api/search",
                "application/json",
                Buffer.buffer("{\"user_id\":\"t\",\"query\":\"q\",\"query\":\"r\"}"));
        assertBad(twice, "query");
        assertThat(message(twice)).startsWith("query: given more than once");
        HttpResponse<Buffer> nested =
                http.patch("/api/files/f-1?user_id=t", new JsonObject("{\"labels\":{\"a\":\"1\"}}"));
        assertThat(nested.statusCode()).as("one label a: not repeated").isNotEqualTo(400);
        HttpResponse<Buffer> nestedTwice = web.request(
                        HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/f-1?user_id=t")
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"labels\":{\"a\":\"1\",\"a\":\"2\"}}"))
                .await();
        assertBad(nestedTwice, "labels.a");
    }

    @Test
    @DisplayName("A JSON body that is not well-formed UTF-8 (an overlong '/', an encoded surrogate, a cut-off"
            + " sequence) is 400 naming the body as not UTF-8; the same text well encoded is taken")
    void malformedUtf8BodiesAreRefused() {
        // C0 AF is an overlong '/': Jackson read it as one and searched for "a/b".
        byte[][] malformed = {
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82}
        };
        for (byte[] bad : malformed) {
            Buffer body = Buffer.buffer("{\"user_id\":\"t\",\"query\":\"a")
                    .appendBytes(bad)
                    .appendString("b\"}");
            HttpResponse<Buffer> r = http.post("/api/search", "application/json", body);
            assertBad(r, "body: not valid UTF-8");
            assertThat(message(r)).contains("at byte 25");
        }
        HttpResponse<Buffer> fine = http.post(
                "/api/search",
                "application/json",
                Buffer.buffer("{\"user_id\":\"t\",\"query\":\"a/b \u00e9\"}".getBytes(StandardCharsets.UTF_8)));
        assertThat(fine.statusCode()).as(fine.bodyAsString()).isEqualTo(200);
    }

    @Test
    @DisplayName("A header parameter given twice (If-Match, Idempotency-Key) is 400 naming it: the first was taken")
    void repeatedHeadersAreRefused() {
        HttpResponse<Buffer> ifMatch = web.request(
                        HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/f-1?user_id=t")
                .putHeader("Content-Type", "application/json")
                .putHeader("If-Match", List.of("\"1\"", "\"99\""))
                .sendBuffer(Buffer.buffer("{\"name\":\"b.txt\"}"))
                .await();
        assertBad(ifMatch, "If-Match: given 2 times");
        MultipartForm form = MultipartForm.create().attribute("user_id", "t");
        form.binaryFileUpload("file", "a.txt", Buffer.buffer("hello"), "text/plain");
        HttpResponse<Buffer> key = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Idempotency-Key", List.of("k1", "k2"))
                .sendMultipartForm(form)
                .await();
        assertBad(key, "Idempotency-Key: given 2 times");
    }

    @Test
    @DisplayName("An Idempotency-Key sent where it is not taken (a new version, an edit, a delete) is 400 and nothing"
            + " changes: ignored, a keyed retry with other bytes was stored as one more version")
    void idempotencyKeyWhereNotTakenIsRefused() {
        String tenant = "keys-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<Buffer> up = http.upload(tenant, "k.txt", "text/plain", "first words".getBytes(), "u-1");
        assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(201);
        String id = up.bodyAsJsonObject().getString("id");
        String file = "/api/files/" + id + "?user_id=" + tenant;
        String content = "/api/files/" + id + "/content?user_id=" + tenant;
        for (String bytes : List.of("second words", "third words")) {
            MultipartForm form = MultipartForm.create();
            form.binaryFileUpload("file", "k.txt", Buffer.buffer(bytes), "text/plain");
            HttpResponse<Buffer> put = web.put(node.httpPort(), "127.0.0.1", content)
                    .putHeader("Idempotency-Key", "v-1")
                    .sendMultipartForm(form)
                    .await();
            assertThat(message(put))
                    .startsWith("Idempotency-Key: this endpoint does not take it")
                    .contains("POST /api/files takes it");
        }
        HttpResponse<Buffer> patch = web.request(HttpMethod.PATCH, node.httpPort(), "127.0.0.1", file)
                .putHeader("Content-Type", "application/json")
                .putHeader("idempotency-key", "e-1")
                .sendBuffer(Buffer.buffer("{\"name\":\"renamed.txt\"}"))
                .await();
        assertBad(patch, "Idempotency-Key: this endpoint does not take it");
        HttpResponse<Buffer> delete = web.delete(node.httpPort(), "127.0.0.1", file)
                .putHeader("Idempotency-Key", "d-1")
                .send()
                .await();
        assertBad(delete, "Idempotency-Key: this endpoint does not take it");
        // Nothing of the three was done: one content version, the name and the file as uploaded.
        JsonObject now = http.get(file).bodyAsJsonObject();
        assertThat(now.getString("status")).isEqualTo("active");
        assertThat(now.getString("name")).isEqualTo("k.txt");
        assertThat(now.getLong("version")).isEqualTo(1L);
        assertThat(http.get("/api/files/" + id + "/versions?user_id=" + tenant)
                        .bodyAsJsonObject()
                        .getJsonArray("versions")
                        .size())
                .isEqualTo(1);
        // The upload still takes its key: a retry is answered with the file it stored.
        HttpResponse<Buffer> again = http.upload(tenant, "k.txt", "text/plain", "first words".getBytes(), "u-1");
        assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(201);
        assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(id);
    }

    @Test
    @DisplayName("A JSON body field the operation does not define is 400 naming it and listing the fields it takes")
    void unknownBodyFieldsAreRefused() {
        assertThat(message(post(
                        "/api/sync/fix", new JsonObject().put("user_id", "t").put("dry_rn", true))))
                .isEqualTo("dry_rn: unknown field (this endpoint takes: user_id, dry_run, issue_types, file_ids)");
        assertThat(message(post(
                        "/api/search",
                        new JsonObject().put("query", "q").put("limt", 5).put("x", 1))))
                .isEqualTo("limt, x: unknown fields (this endpoint takes: user_id, query, limit, file_ids,"
                        + " content_types)");
        assertThat(message(post("/api/sync/quarantine/purge", new JsonObject().put("older_than", 3))))
                .startsWith("older_than: unknown field (this endpoint takes: user_id, older_than_days)");
        assertThat(message(web.request(HttpMethod.PATCH, node.httpPort(), "127.0.0.1", "/api/files/some-id?user_id=t")
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer("{\"name\":\"a.txt\",\"label\":{}}"))
                        .await()))
                .startsWith("label: unknown field (this endpoint takes: name, labels)");
        // A field another operation takes says which: a scan has no dry run, the repairs have.
        assertThat(message(post("/api/sync/analyze", new JsonObject().put("dry_run", true))))
                .startsWith("dry_run: unknown field (this endpoint takes: user_id, mode, sample_size, seed, wait)")
                .contains("dry_run is a field of POST /api/sync/fix and POST /api/v1/sync");
        assertThat(message(post(
                        "/api/v1/sync", new JsonObject().put("kind", "scan").put("user_id", "t"))))
                .startsWith("user_id: unknown field (this endpoint takes: tenant_id, kind, all, dry_run)");
        // A defined field of the wrong type next to an unknown one: the unknown one is named first; alone,
        // the wrong type is named as before (not as unknown).
        assertThat(message(post(
                        "/api/sync/fix", new JsonObject().put("dry_run", "no").put("dry_rn", true))))
                .startsWith("dry_rn: unknown field");
        assertThat(message(post("/api/sync/fix", new JsonObject().put("dry_run", "no"))))
                .isEqualTo("dry_run: Instance type string is invalid. Expected boolean");
    }

    @Test
    @DisplayName("A query parameter the operation does not take, or takes once and gets twice, is 400 naming it and"
            + " what the operation takes")
    void unknownQueryParametersAreRefused() {
        assertThat(message(http.get("/api/files?user_id=t&limt=5")))
                .isEqualTo("limt: unknown query parameter (this endpoint takes: user_id, limit, cursor)");
        // A body field sent in the query: ignored, it would have run the re-index rather than estimate it.
        assertThat(message(web.request(HttpMethod.POST, node.httpPort(), "127.0.0.1", "/api/v1/sync?dry_run=true")
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer("{\"kind\":\"reindex\",\"tenant_id\":\"t\"}"))
                        .await()))
                .isEqualTo("dry_run: unknown query parameter (this endpoint takes none);"
                        + " dry_run is a field of its JSON body");
        assertThat(message(web.request(
                                HttpMethod.DELETE,
                                node.httpPort(),
                                "127.0.0.1",
                                "/api/files/some-id?user_id=t&dry_run=true")
                        .send()
                        .await()))
                .isEqualTo("dry_run: unknown query parameter (this endpoint takes: user_id)");
        assertThat(message(http.get("/api/v1/sync/operations?user_id=t")))
                .isEqualTo("user_id: unknown query parameter (this endpoint takes: tenant_id, status, limit)");
        assertThat(message(http.get("/api/files?user_id=a&user_id=b")))
                .isEqualTo("user_id: given 2 times (this endpoint takes it once)");
        assertThat(message(http.get("/api/files?user_id=t&=5")))
                .isEqualTo("query string: \"=5\" is a parameter without a name");
        var upload = web.post(node.httpPort(), "127.0.0.1", "/api/files?user_id=t")
                .sendMultipartForm(io.vertx.ext.web.multipart.MultipartForm.create()
                        .attribute("user_id", "t")
                        .binaryFileUpload("file", "a.txt", Buffer.buffer("hello"), "text/plain"))
                .await();
        assertThat(message(upload))
                .isEqualTo("user_id: unknown query parameter (this endpoint takes none);"
                        + " user_id is a field of its multipart form");
    }

    @Test
    @DisplayName("Every query parameter the admin UI, the events page, the bridge and the probes send is still taken;"
            + " ids that read as JSON numbers are ids")
    void clientsParametersAreTaken() {
        Map<String, Integer> expected = new java.util.LinkedHashMap<>();
        // The admin UI's requests (src/main/resources/webroot/js/admin.js), as it builds them.
        expected.put("/api/sync/events/recent?limit=50", 200);
        expected.put("/api/sync/events/recent?limit=50&user_id=t", 200);
        expected.put("/api/sync/trends?limit=100", 200);
        expected.put("/api/sync/trends?limit=100&user_id=t", 200);
        expected.put("/api/sync/status/t?limit=50", 200);
        expected.put("/api/sync/status/t?limit=50&cursor=f-1", 200);
        expected.put("/api/v1/sync/operations?tenant_id=t&limit=10", 200);
        expected.put("/api/sync/quarantine?user_id=t", 200);
        expected.put("/api/v1/sync/status?tenant_id=t", 200);
        expected.put("/api/files/no-such-file/content?user_id=t", 404);
        expected.put("/api/files/no-such-file/story?user_id=t", 404);
        expected.put("/api/files/no-such-file/versions?user_id=t", 404);
        expected.put("/api/files/no-such-file/versions/1/content?user_id=t", 404);
        // The README's and the tests' own.
        expected.put("/api/files?user_id=t&limit=3&cursor=f-1", 200);
        expected.put("/api/v1/sync/operations?status=failed", 200);
        expected.put("/api/sync/quarantine?user_id=t&state=restored&limit=5", 200);
        // Outside the contract's /api operations, parameters are not checked: SockJS's cache-buster,
        // a static file's version, probes and scrapers that add their own.
        expected.put("/eventbus/info?t=1700000000000", 200);
        expected.put("/index.html?v=2", 200);
        expected.put("/js/admin.js?v=2", 200);
        expected.put("/health?probe=lb", 200);
        expected.put("/openapi.json?x=1", 200);
        // Valid ids the OpenAPI module read as JSON numbers and refused ("Expected string").
        expected.put("/api/files?user_id=1.5", 200);
        expected.put("/api/sync/status/-1", 200);
        Map<String, String> wrong = new java.util.LinkedHashMap<>();
        expected.forEach((path, status) -> {
            var r = http.get(path);
            if (r.statusCode() != status) {
                wrong.put(path, r.statusCode() + " " + r.bodyAsString());
            }
        });
        var restore = web.post(node.httpPort(), "127.0.0.1", "/api/sync/quarantine/no-such-id/restore?user_id=t")
                .send()
                .await();
        if (restore.statusCode() != 404) {
            wrong.put("restore", restore.statusCode() + " " + restore.bodyAsString());
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    @DisplayName("A body sent to an operation that takes none is 400 naming the body; none, or an empty one, is fine")
    void bodyWhereNoneIsTaken() {
        assertThat(message(web.request(HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/api/files/some-id?user_id=t")
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer("{\"user_id\":\"t\"}"))
                        .await()))
                .isEqualTo("body: this endpoint takes no request body (send none, an empty one, {} or null;"
                        + " it takes query parameters: user_id)");
        assertThat(message(web.request(HttpMethod.GET, node.httpPort(), "127.0.0.1", "/api/files?user_id=t")
                        .sendBuffer(Buffer.buffer("limit=5"))
                        .await()))
                .startsWith("body: this endpoint takes no request body");
        assertThat(message(http.post("/api/v1/sync/some-op/cancel", "application/json", Buffer.buffer("{\"a\":1}"))))
                .isEqualTo("body: this endpoint takes no request body (send none, an empty one, {} or null)");
        // {} (as requests.post(url, json={}) sends it) and null (a serialised "no value"), blanks
        // around them or not, are taken as no body, as a JSON operation takes them.
        for (String empty : List.of("{}", " { }\n", "null", " null\n")) {
            HttpResponse<Buffer> r = http.post("/api/v1/sync/some-op/cancel", "application/json", Buffer.buffer(empty));
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(404);
        }
        var chunked = RawHttp.exchange(
                node.httpPort(),
                ("GET /api/files?user_id=t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "5\r\nhello\r\n0\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                10_000);
        assertThat(chunked.status()).isEqualTo(400);
        assertThat(message(chunked.body())).startsWith("body: this endpoint takes no request body");
        // None (Content-Length: 0, as browsers and Vert.x send for a POST without one) reaches the handler.
        assertThat(http.post("/api/v1/sync/some-op/cancel", "application/json", Buffer.buffer())
                        .statusCode())
                .isEqualTo(404);
        // A JSON operation's body that is not JSON names the body; whitespace only is an empty body.
        assertThat(message(http.post("/api/sync/fix", "application/x-www-form-urlencoded", Buffer.buffer("a=b"))))
                .isEqualTo("body: not valid JSON (this endpoint takes a JSON object, Content-Type: application/json)");
        assertThat(http.post("/api/sync/fix", "application/json", Buffer.buffer(" \n"))
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    @DisplayName("{} sent with Expect: 100-continue where no body is taken is told to go on, then taken as none")
    void emptyObjectAfterContinue() {
        // The body is sent only after 100 Continue; the server waited for it without answering, so
        // each request waited for its client's own timeout. Each read here waits at most 5 s.
        for (String path : List.of("/api/v1/sync/some-op/cancel", "/api/files/no-such-file?user_id=t")) {
            String method = path.startsWith("/api/files") ? "DELETE" : "POST";
            String head = method + " " + path + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
            RawHttp.Reply r = RawHttp.exchangeAfterContinue(
                    node.httpPort(), head, "{}".getBytes(StandardCharsets.US_ASCII), 5_000);
            assertThat(r.status()).as(method + " " + path + ": " + r.body()).isEqualTo(404);
            assertThat(r.header("content-type")).startsWith("application/json");
        }
        // Anything else in the body is still refused once read.
        RawHttp.Reply other = RawHttp.exchangeAfterContinue(
                node.httpPort(),
                "POST /api/v1/sync/some-op/cancel HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                        + "Expect: 100-continue\r\nContent-Length: 7\r\nConnection: close\r\n\r\n",
                "{\"a\":1}".getBytes(StandardCharsets.US_ASCII),
                5_000);
        assertThat(other.status()).isEqualTo(400);
        assertThat(message(other.body())).startsWith("body: this endpoint takes no request body");
    }

    @Test
    @DisplayName("A path or query string that is not valid percent-encoding is 400 with the JSON error body naming it")
    void undecodableUris() {
        for (String path : List.of("/api/files/%zz", "/api/files/%", "/api/files/%2", "/%zz", "/api/%zz/x")) {
            var r = RawHttp.exchange(
                    node.httpPort(), RawHttp.request("GET", path, "", "Host: h", "Connection: close"), 10_000);
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.header("content-type")).as(path).startsWith("application/json");
            assertThat(message(r.body()))
                    .as(path)
                    .isEqualTo("path: " + path
                            + " is not valid percent-encoding (each % must be followed by two hexadecimal digits)");
        }
        var query = RawHttp.exchange(
                node.httpPort(),
                RawHttp.request("GET", "/api/files?user_id=t&cursor=%zz", "", "Host: h", "Connection: close"),
                10_000);
        assertThat(query.status()).isEqualTo(400);
        assertThat(message(query.body()))
                .isEqualTo("cursor: \"cursor=%zz\" is not valid percent-encoding"
                        + " (each % must be followed by two hexadecimal digits)");
        // Dot segments are resolved as RFC 3986 says (browsers and curl resolve them before sending):
        // the request is the resolved path's, checked as such.
        var dots = RawHttp.exchange(
                node.httpPort(),
                RawHttp.request("GET", "/api/sync/../files?limt=1", "", "Host: h", "Connection: close"),
                10_000);
        assertThat(message(dots.body()))
                .isEqualTo("limt: unknown query parameter (this endpoint takes: user_id, limit, cursor)");
    }

    private static String message(HttpResponse<Buffer> r) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("bad_request");
        return r.bodyAsJsonObject().getString("message");
    }

    private HttpResponse<Buffer> post(String path, JsonObject body) {
        return http.post(path, "application/json", Buffer.buffer(body.encode()));
    }

    private static void assertBad(HttpResponse<Buffer> r, String field) {
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("error")).isEqualTo("bad_request");
        assertThat(body.getString("message")).as("names %s", field).contains(field);
    }

    @Test
    @DisplayName("A 405 lists the methods the path takes in its Allow header and its message (RFC 9110)")
    void methodNotAllowedSaysWhatIs() {
        var search = web.request(HttpMethod.GET, node.httpPort(), "127.0.0.1", "/api/search?q=cats")
                .send()
                .await();
        assertThat(search.statusCode()).isEqualTo(405);
        assertThat(search.getHeader("Allow")).isEqualTo("POST");
        assertThat(message(search.bodyAsString())).isEqualTo("GET is not served on /api/search; it takes POST");

        var file = web.request(HttpMethod.POST, node.httpPort(), "127.0.0.1", "/api/files/some-id")
                .send()
                .await();
        assertThat(file.statusCode()).isEqualTo(405);
        assertThat(file.getHeader("Allow")).isEqualTo("DELETE, GET, HEAD, PATCH");

        var page = web.request(HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/index.html")
                .send()
                .await();
        assertThat(page.statusCode()).isEqualTo(405);
        assertThat(page.getHeader("Allow")).isEqualTo("GET, HEAD");

        var health = web.request(HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/health")
                .send()
                .await();
        assertThat(health.statusCode()).isEqualTo(405);
        assertThat(health.getHeader("Allow")).isEqualTo("GET, HEAD");
    }

    @Test
    @DisplayName(
            "HEAD is answered where GET is outside /api: a probe may ask the health, metrics or contract either way")
    void headWhereGetIs() {
        for (String path : List.of("/health", "/metrics", "/openapi.json", "/openapi.yaml", "/index.html")) {
            var get = web.request(HttpMethod.GET, node.httpPort(), "127.0.0.1", path)
                    .send()
                    .await();
            var head = web.request(HttpMethod.HEAD, node.httpPort(), "127.0.0.1", path)
                    .send()
                    .await();
            assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode()).isLessThan(400);
            assertThat(head.body()).as(path).isNull();
        }
    }

    @Test
    @DisplayName("HEAD is answered on every /api operation served by GET, with the GET's status and no body"
            + " (it was 405)")
    void headWhereGetIsUnderApi() {
        JsonObject paths = http.get("/openapi.json").bodyAsJsonObject().getJsonObject("paths");
        int checked = 0;
        for (String path : paths.fieldNames()) {
            if (!path.startsWith("/api/") || !paths.getJsonObject(path).containsKey("get")) {
                continue;
            }
            String concrete = path.replaceAll("\\{[^}]+}", "x-missing");
            var get = web.request(HttpMethod.GET, node.httpPort(), "127.0.0.1", concrete)
                    .send()
                    .await();
            var head = web.request(HttpMethod.HEAD, node.httpPort(), "127.0.0.1", concrete)
                    .send()
                    .await();
            assertThat(head.statusCode())
                    .as(concrete)
                    .isEqualTo(get.statusCode())
                    .isNotEqualTo(405);
            assertThat(head.getHeader("Content-Type")).as(concrete).isEqualTo(get.getHeader("Content-Type"));
            // The length the GET's body has (RFC 9110, 8.6: a HEAD may say it, and a client sizing a
            // download reads it); an answer read twice may differ in a reading (a status's timestamp),
            // an error not.
            assertThat(head.getHeader("Content-Length")).as(concrete).matches("[0-9]+");
            if (get.statusCode() >= 400) {
                assertThat(head.getHeader("Content-Length")).as(concrete).isEqualTo(get.getHeader("Content-Length"));
            }
            assertThat(head.body()).as(concrete).isNull();
            checked++;
        }
        assertThat(checked).isGreaterThan(10);
        // A HEAD is validated as its GET: a query parameter the GET does not take is refused alike.
        var refused = web.request(HttpMethod.HEAD, node.httpPort(), "127.0.0.1", "/api/files?limit=0")
                .send()
                .await();
        assertThat(refused.statusCode()).isEqualTo(400);
    }

    private static String message(String body) {
        try {
            return new JsonObject(body).getString("message");
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String run(Path dir, int seconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(seconds, TimeUnit.SECONDS))
                .as(String.join(" ", command))
                .isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }
}
