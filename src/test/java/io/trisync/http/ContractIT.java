package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        // What the contract allows still reaches the handlers: an empty body is every field defaulted.
        assertThat(http.post("/api/sync/fix", "application/json", Buffer.buffer())
                        .statusCode())
                .isEqualTo(200);
        assertThat(http.post("/api/sync/fix", "application/json", Buffer.buffer("null"))
                        .statusCode())
                .isEqualTo(200);
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
        assertThat(file.getHeader("Allow")).isEqualTo("DELETE, GET, PATCH");

        var page = web.request(HttpMethod.DELETE, node.httpPort(), "127.0.0.1", "/index.html")
                .send()
                .await();
        assertThat(page.statusCode()).isEqualTo(405);
        assertThat(page.getHeader("Allow")).isEqualTo("GET, HEAD");
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
