package io.trisync.http;

import io.trisync.auth.Tokens;
import io.trisync.testsupport.RawHttp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The requests of {@link MalformedRequestsIT}: wrong JSON types and bodies, tokens with claims of the
 * wrong type, unsafe ids in every slot, multipart mutations and request-line abuse, each with the
 * statuses it may get.
 */
final class MalformedCorpus {

    private final Tokens tokens;
    private final String tenant;
    private final String tenantToken;
    private final String adminToken;

    /** The corpus for {@code tenant}, with tokens signed by {@code tokens}' key. */
    MalformedCorpus(Tokens tokens, String tenant, String tenantToken, String adminToken) {
        this.tokens = tokens;
        this.tenant = tenant;
        this.tenantToken = tenantToken;
        this.adminToken = adminToken;
    }

    /** One request of the corpus and the statuses it may get. */
    record Case(String name, byte[] request, int... allowed) {}

    private String[] headers(String token, String contentType) {
        List<String> h = new ArrayList<>(List.of("Host: 127.0.0.1", "Connection: close"));
        if (token != null) {
            h.add("Authorization: Bearer " + token);
        }
        if (contentType != null) {
            h.add("Content-Type: " + contentType);
        }
        return h.toArray(String[]::new);
    }

    private Case json(String name, String method, String path, String body, String token, int... allowed) {
        return new Case(name, RawHttp.request(method, path, body, headers(token, "application/json")), allowed);
    }

    private Case get(String name, String path, String token, int... allowed) {
        return new Case(name, RawHttp.request("GET", path, "", headers(token, null)), allowed);
    }

    /** A multipart upload whose body is {@code parts} as given, under {@code contentType}. */
    private Case multipart(String name, String contentType, String parts, int... allowed) {
        return new Case(name, RawHttp.request("POST", "/api/files", parts, headers(adminToken, contentType)), allowed);
    }

    static String part(String disposition, String contentType, String content) {
        return "--B\r\n" + (disposition == null ? "" : "Content-Disposition: " + disposition + "\r\n")
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n") + "\r\n" + content + "\r\n";
    }

    private String signed(JsonObject claims) {
        return tokens.provider().generateToken(claims, new JWTOptions().setAlgorithm("HS256"));
    }

    List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        // Tracked operations: kind and tenant of every wrong shape.
        for (String body : List.of(
                "{\"tenant_id\":\"" + tenant + "\"}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":null}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":5}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"nope\"}",
                "{\"tenant_id\":5,\"kind\":\"scan\"}",
                "{\"tenant_id\":\"../x\",\"kind\":\"scan\"}",
                "{\"tenant_id\":\"all\",\"kind\":\"scan\"}",
                "null",
                "",
                "[]",
                "\"x\"",
                "{",
                "{\"tenant_id\":[1],\"kind\":{}}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"scan\",\"dry_run\":true}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"repair\",\"dry_run\":true}",
                // A field the operation does not define: refused, never ignored (a typo'd dry run would apply).
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"repair\",\"dry_rn\":true}",
                "{\"tenant_id\":\"" + tenant + "\",\"kind\":\"reindex\",\"dryRun\":true}",
                "{\"user_id\":\"" + tenant + "\",\"kind\":\"scan\"}")) {
            cases.add(json("v1/sync " + body, "POST", "/api/v1/sync", body, adminToken, 400));
        }
        // Every field optional: an empty body and the literal null mean the defaults.
        Map<String, List<String>> wrongBodies = Map.of(
                "/api/sync/fix",
                List.of(
                        "[]",
                        "5",
                        "\"x\"",
                        "{\"user_id\":5}",
                        "{\"dry_run\":\"x\"}",
                        "{\"issue_types\":\"x\"}",
                        "{\"issue_types\":[5]}",
                        "{\"file_ids\":[\"../x\"]}",
                        "{\"user_id\":\"all\"}",
                        "{\"dry_rn\":true}",
                        "{\"user_id\":\"" + tenant + "\",\"dry_run\":true,\"file_id\":\"f-1\"}",
                        "{\"__proto__\":{\"dry_run\":false}}"),
                "/api/sync/quarantine/purge",
                List.of(
                        "[]",
                        "5",
                        "\"x\"",
                        "{\"user_id\":5}",
                        "{\"older_than_days\":\"x\"}",
                        "{\"older_than_days\":-1}",
                        "{\"older_than\":0}",
                        "{\"user_id\":\"all\"}"));
        wrongBodies.forEach((path, bodies) -> {
            for (String body : List.of("", "null")) {
                cases.add(json(path + " " + body, "POST", path, body, adminToken, 200, 202));
            }
            for (String body : bodies) {
                cases.add(json(path + " " + body, "POST", path, body, adminToken, 400));
            }
        });
        for (String body : List.of("", "null")) {
            cases.add(json("analyze " + body, "POST", "/api/sync/analyze", body, tenantToken, 200));
        }
        for (String body : List.of(
                "[]",
                "5",
                "{\"user_id\":5}",
                "{\"mode\":5}",
                "{\"mode\":\"x\"}",
                "{\"wait\":\"x\"}",
                "{\"sample_size\":\"x\"}",
                "{\"sample_size\":0}",
                "{\"seed\":1.5}",
                "{\"dry_run\":true}",
                "{\"mod\":\"quick\"}",
                "{\"user_id\":\"a b\"}")) {
            cases.add(json("analyze " + body, "POST", "/api/sync/analyze", body, adminToken, 400));
        }
        for (String body : List.of(
                "{\"query\":\"q\",\"limt\":5}", "{\"user_id\":\"" + tenant + "\",\"query\":\"q\",\"fileIds\":[]}")) {
            cases.add(json("search " + body, "POST", "/api/search", body, adminToken, 400));
        }
        // Tokens with claims of the wrong type, correctly signed: 401, never 500.
        long now = System.currentTimeMillis() / 1000;
        for (JsonObject claims : List.of(
                new JsonObject().put("sub", "x").put("tenant", tenant).put("exp", "9999999999"),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("nbf", "0"),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("iat", "0"),
                new JsonObject().put("sub", "x").put("tenant", 123),
                new JsonObject().put("sub", "x").put("tenant", tenant).put("roles", "admin"),
                new JsonObject().put("sub", "x").put("roles", new JsonArray().add(5)),
                new JsonObject().put("sub", 5).put("tenant", tenant).put("exp", now + 600),
                new JsonObject().put("sub", "x").put("tenant", "all").put("exp", now + 600))) {
            cases.add(get("token " + claims.encode(), "/api/files", signed(claims), 401));
        }
        cases.add(get("token not base64", "/api/files", "a.b.c", 401));
        cases.add(get("token empty", "/api/files", "", 401));
        // Unsafe ids in every path and query slot.
        for (String bad : List.of("..", "a%2Fb", "a%20b", "%00", "x".repeat(300), "all", "*")) {
            cases.add(get("file " + bad, "/api/files/" + bad, adminToken, 400, 404));
            cases.add(get("file content " + bad, "/api/files/" + bad + "/content", adminToken, 400, 404));
            cases.add(get("files user_id " + bad, "/api/files?user_id=" + bad, adminToken, 400));
            cases.add(get("status " + bad, "/api/sync/status/" + bad, adminToken, 400, 404));
            cases.add(get("fix result " + bad, "/api/sync/fix/" + bad, adminToken, 400, 404));
            cases.add(get("ops user " + bad, "/api/v1/sync/operations?tenant_id=" + bad, adminToken, 400));
            cases.add(json("cancel " + bad, "POST", "/api/v1/sync/" + bad + "/cancel", "", adminToken, 400, 404));
            cases.add(json(
                    "restore " + bad, "POST", "/api/sync/quarantine/" + bad + "/restore", "", adminToken, 400, 404));
            cases.add(new Case(
                    "delete " + bad,
                    RawHttp.request(
                            "DELETE", "/api/files/" + bad + "?user_id=" + tenant, "", headers(adminToken, null)),
                    400,
                    404));
        }
        for (String limit : List.of("abc", "-1", "0", "99999999999", "1e3", "")) {
            cases.add(get("files limit " + limit, "/api/files?user_id=" + tenant + "&limit=" + limit, adminToken, 400));
            cases.add(get("events limit " + limit, "/api/sync/events/recent?limit=" + limit, adminToken, 400));
            cases.add(get("ops limit " + limit, "/api/v1/sync/operations?limit=" + limit, adminToken, 400));
        }
        cases.add(get("files cursor", "/api/files?user_id=" + tenant + "&cursor=%%%", adminToken, 400));
        cases.add(get("ops status", "/api/v1/sync/operations?status=bogus", adminToken, 400));
        // Multipart mutations.
        String file = part("form-data; name=\"file\"; filename=\"a.txt\"", "text/plain", "hello");
        String user = part("form-data; name=\"user_id\"", null, tenant);
        cases.add(multipart("empty boundary", "multipart/form-data; boundary=", user + file + "--B--\r\n", 400));
        cases.add(multipart(
                "5000-character boundary",
                "multipart/form-data; boundary=" + "b".repeat(5000),
                user + file + "--B--\r\n",
                400,
                413,
                431));
        cases.add(multipart(
                "2000-character file name",
                "multipart/form-data; boundary=B",
                user + part("form-data; name=\"file\"; filename=\"" + "n".repeat(2000) + "\"", "text/plain", "hi")
                        + "--B--\r\n",
                400));
        cases.add(multipart(
                "3000-character part content type",
                "multipart/form-data; boundary=B",
                user + part("form-data; name=\"file\"; filename=\"a.txt\"", "text/" + "p".repeat(3000), "hi")
                        + "--B--\r\n",
                400));
        cases.add(multipart(
                "10,000-character user_id",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "u".repeat(10_000)) + file + "--B--\r\n",
                400));
        cases.add(multipart(
                "1 MB user_id",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "u".repeat(1 << 20)) + file + "--B--\r\n",
                400,
                413));
        StringBuilder many = new StringBuilder(user);
        for (int i = 0; i < 1000; i++) {
            many.append(part("form-data; name=\"f" + i + "\"", null, "v"));
        }
        cases.add(multipart("1,000 form fields", "multipart/form-data; boundary=B", many + file + "--B--\r\n", 400));
        cases.add(multipart(
                "part without Content-Disposition",
                "multipart/form-data; boundary=B",
                user + part(null, "text/plain", "hello") + "--B--\r\n",
                400));
        cases.add(multipart(
                "Content-Transfer-Encoding base64",
                "multipart/form-data; boundary=B",
                user + "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--B--\r\n",
                400));
        cases.add(multipart(
                "admin upload as tenant all",
                "multipart/form-data; boundary=B",
                part("form-data; name=\"user_id\"", null, "all") + file + "--B--\r\n",
                400));
        cases.add(multipart("not multipart at all", "multipart/form-data; boundary=B", "garbage", 400));
        cases.add(multipart("JSON to the upload", "application/json", "{}", 415));
        cases.add(multipart("no Content-Type to the upload", null, "user_id=x", 415));
        // A part's content type and file name go to S3 as headers and back to browsers: only a media
        // type of printable ASCII, only a name without control characters or a path of its own.
        for (String type : List.of(
                "text/plain\u007f",
                "text/pl\u0001ain",
                "text/plain\u00e9",
                "application/x-evil<script>",
                "../../etc",
                "text/plain; charset=bogus-cs; x")) {
            cases.add(multipart(
                    "part content type " + type.replaceAll("\\p{Cntrl}", "?"),
                    "multipart/form-data; boundary=B",
                    user + part("form-data; name=\"file\"; filename=\"a.txt\"", type, "hi") + "--B--\r\n",
                    400));
        }
        for (String name : List.of("a\u0007b.txt", "a\u0000b.txt", "..", ".")) {
            cases.add(multipart(
                    "file name " + name.replaceAll("\\p{Cntrl}", "?"),
                    "multipart/form-data; boundary=B",
                    user + part("form-data; name=\"file\"; filename=\"" + name + "\"", "text/plain", "hi")
                            + "--B--\r\n",
                    400));
        }
        cases.add(multipart(
                "part charset unknown to the server",
                "multipart/form-data; boundary=B",
                user + part("form-data; name=\"file\"; filename=\"a.txt\"", "text/plain; charset=bogus-cs", "hi")
                        + "--B--\r\n",
                400));
        // Renames and labels: the same rules for a name; label keys MongoDB could read as operators or
        // paths, and control characters, are refused.
        String edit = "/api/files/f-1?user_id=" + tenant;
        for (String body : List.of(
                "{\"name\":\"a\\u0000b\"}",
                "{\"name\":\"a\\nb\"}",
                "{\"name\":\"../../x\"}",
                "{\"name\":\"..\"}",
                "{\"labels\":{\"\\u0000\":\"x\"}}",
                "{\"labels\":{\"$set\":\"x\"}}",
                "{\"labels\":{\"_id\":\"x\\u0000\"}}",
                "{\"nam\":\"x.txt\"}",
                "{\"name\":\"x.txt\",\"version\":3}")) {
            cases.add(json("PATCH " + body, "PATCH", edit, body, adminToken, 400));
        }
        cases.add(get("token whose header is not UTF-8", "/api/files", "t7e3.e30.x", 401));
        // A path served with other methods is 405; a path not served at all is 404; both JSON.
        cases.add(json("PUT on the search", "PUT", "/api/search", "{}", adminToken, 405));
        cases.add(json("DELETE on analyze", "DELETE", "/api/sync/analyze", "{}", adminToken, 405));
        cases.add(get("a path not served", "/api/no-such-resource", adminToken, 404));
        cases.add(get("a page not served", "/no-such-page.html", null, 404));
        // The contract's operations, each with a query string it takes: the URI, query string and body
        // shapes of this session's campaign, sent to every one of them.
        String owner = "user_id=" + tenant;
        for (String[] op : List.of(
                new String[] {"GET", "/api/files", owner},
                new String[] {"POST", "/api/files", ""},
                new String[] {"GET", "/api/files/f-1", owner},
                new String[] {"PATCH", "/api/files/f-1", owner},
                new String[] {"DELETE", "/api/files/f-1", owner},
                new String[] {"GET", "/api/files/f-1/content", owner},
                new String[] {"PUT", "/api/files/f-1/content", owner},
                new String[] {"GET", "/api/files/f-1/versions", owner},
                new String[] {"GET", "/api/files/f-1/versions/1/content", owner},
                new String[] {"GET", "/api/files/f-1/story", owner},
                new String[] {"POST", "/api/search", ""},
                new String[] {"GET", "/api/sync/events/recent", owner},
                new String[] {"POST", "/api/sync/analyze", ""},
                new String[] {"GET", "/api/sync/status/" + tenant, "limit=5"},
                new String[] {"GET", "/api/sync/tenants", ""},
                new String[] {"GET", "/api/sync/trends", owner},
                new String[] {"POST", "/api/sync/consistency-check", ""},
                new String[] {"GET", "/api/sync/status", ""},
                new String[] {"POST", "/api/sync/fix", ""},
                new String[] {"GET", "/api/sync/fix/op-1", owner},
                new String[] {"GET", "/api/sync/quarantine", owner},
                new String[] {"POST", "/api/sync/quarantine/q-1/restore", owner},
                new String[] {"POST", "/api/sync/quarantine/purge", ""},
                new String[] {"POST", "/api/v1/sync", ""},
                new String[] {"GET", "/api/v1/sync/status", "tenant_id=" + tenant},
                new String[] {"POST", "/api/v1/sync/cleanup", ""},
                new String[] {"GET", "/api/v1/sync/operations", "tenant_id=" + tenant},
                new String[] {"POST", "/api/v1/sync/op-1/cancel", ""},
                new String[] {"DELETE", "/api/tenants/" + tenant + "-never", ""},
                new String[] {"GET", "/api/tenants/" + tenant + "-never", ""},
                new String[] {"GET", "/api/vector-collections", ""},
                new String[] {"DELETE", "/api/vector-collections/none-such", ""})) {
            String method = op[0];
            String path = op[1];
            String taken = op[2].isEmpty() ? "" : op[2] + "&";
            boolean multipart = path.equals("/api/files") && method.equals("POST") || method.equals("PUT");
            boolean jsonBody = method.equals("PATCH")
                    || List.of(
                                    "/api/search",
                                    "/api/sync/analyze",
                                    "/api/sync/fix",
                                    "/api/sync/quarantine/purge",
                                    "/api/v1/sync")
                            .contains(path);
            String body = multipart ? user + file + "--B--\r\n" : "";
            String type = multipart ? "multipart/form-data; boundary=B" : jsonBody ? "application/json" : null;
            // Unknown, body-field, nameless, repeated and undecodable query parameters: 400 before any handler.
            for (String query : List.of(
                    "limt=5",
                    "dry_run=true",
                    "=5",
                    "x=%zz",
                    "%zz=1",
                    op[2].isEmpty() ? "dry_rn=1" : op[2] + "&" + op[2])) {
                cases.add(new Case(
                        method + " " + path + "?" + taken + query,
                        RawHttp.request(method, path + "?" + taken + query, body, headers(adminToken, type)),
                        400));
            }
            // An undecodable escape in every path segment after /api.
            String[] segments = path.split("/");
            for (int i = 2; i < segments.length; i++) {
                String[] broken = segments.clone();
                broken[i] = segments[i] + "%z";
                String target = String.join("/", broken) + (op[2].isEmpty() ? "" : "?" + op[2]);
                cases.add(new Case(
                        method + " " + target, RawHttp.request(method, target, body, headers(adminToken, type)), 400));
            }
            String target = path + (op[2].isEmpty() ? "" : "?" + op[2]);
            if (!multipart && !jsonBody) {
                // A body where the operation takes none: refused, not ignored ({} and null alone are taken as none).
                for (String sent : List.of("{\"user_id\":\"" + tenant + "\"}", "{\"x\":{}}", "x")) {
                    cases.add(new Case(
                            method + " " + target + " with body " + sent,
                            RawHttp.request(method, target, sent, headers(adminToken, "application/json")),
                            400));
                }
            }
            if (jsonBody) {
                // Whitespace is an empty body (Jackson's "No content to map" was quoted back); form data is not JSON.
                cases.add(new Case(
                        method + " " + target + " whitespace body",
                        RawHttp.request(method, target, " \n", headers(tenantToken, "application/json")),
                        200,
                        400,
                        403,
                        404));
                for (String contentType :
                        List.of("application/x-www-form-urlencoded", "text/plain", "application/xml")) {
                    cases.add(new Case(
                            method + " " + target + " " + contentType,
                            RawHttp.request(method, target, "a=b&<x/>", headers(adminToken, contentType)),
                            400));
                }
            }
        }
        // The bridge's WebSocket transports asked for what cannot open one: Vert.x answered in plain text.
        String key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        for (String[] ws : List.of(
                new String[] {"GET", "/eventbus/websocket", "", "400"},
                new String[] {"GET", "/eventbus/123/s1/websocket", "", "400"},
                new String[] {"GET", "/eventbus/websocket", "Upgrade: websocket\r\n", "400"},
                new String[] {"GET", "/eventbus/websocket", "Upgrade: websocket\r\nConnection: Upgrade\r\n", "400"},
                new String[] {"GET", "/eventbus/websocket", "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key, "400"
                },
                new String[] {
                    "GET",
                    "/eventbus/websocket",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 99\r\n",
                    "400"
                },
                new String[] {
                    "POST",
                    "/eventbus/websocket",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n"
                            + "Content-Length: 0\r\n",
                    "405"
                })) {
            cases.add(new Case(
                    "bridge WebSocket " + ws[0] + " " + ws[1] + " " + ws[2].replace("\r\n", " | "),
                    (ws[0] + " " + ws[1] + " HTTP/1.1\r\nHost: h\r\n" + ws[2] + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII),
                    Integer.parseInt(ws[3])));
        }
        // Request-line and header abuse.
        cases.add(new Case(
                "no Host header",
                "GET /api/files HTTP/1.1\r\nAuthorization: Bearer X\r\nConnection: close\r\n\r\n"
                        .replace("X", adminToken)
                        .getBytes(StandardCharsets.US_ASCII),
                400));
        cases.add(new Case(
                "8 kB request line",
                ("GET /api/files?x=" + "a".repeat(8192) + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400,
                414));
        cases.add(new Case(
                "64 kB header",
                ("GET /health HTTP/1.1\r\nHost: h\r\nX-Big: " + "a".repeat(65536) + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400,
                431));
        cases.add(new Case(
                "chunk size zz",
                ("POST /api/v1/sync HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
                                + "\r\nAuthorization: Bearer " + adminToken
                                + "\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII),
                400));
        cases.add(new Case(
                "HTTP/9.9", "GET /health HTTP/9.9\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 400, 505));
        cases.add(new Case(
                "HTTP/2.0 request line",
                "GET /health HTTP/2.0\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                400,
                505));
        cases.add(new Case(
                "method with spaces",
                "G E T /health HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                400));
        return cases;
    }
}
