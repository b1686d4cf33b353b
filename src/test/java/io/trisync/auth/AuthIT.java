package io.trisync.auth;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.Node;
import io.trisync.testsupport.ChildJvm;
import io.trisync.testsupport.TestStack;
import io.trisync.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Authentication of the REST API: tokens, tenants, admin routes, rate limit, CORS, the token command. */
@Timeout(240)
class AuthIT {

    static final String SECRET = "rest-test-secret-0123456789abcdef-0123";
    static Node node;
    static Vertx vertx;
    static WebClient web;
    static Tokens tokens;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED", "true",
                                "AUTH_JWT_SECRET", SECRET,
                                "API_RATE_LIMIT_PER_MINUTE", "40",
                                "CORS_ALLOWED_ORIGINS", "https://admin.example.com")),
                        false)
                .await();
        vertx = Vertx.vertx();
        web = WebClient.create(vertx);
        tokens = Tokens.of(vertx, SECRET);
    }

    @AfterAll
    static void stop() {
        web.close();
        vertx.close().await();
        node.stop().await();
    }

    private static HttpRequest<Buffer> get(String path, String token) {
        HttpRequest<Buffer> r = web.get(node.httpPort(), "127.0.0.1", path);
        return token == null ? r : r.bearerTokenAuthentication(token);
    }

    private static String tenant(String t) {
        return tokens.issue(t, false, Duration.ofMinutes(5));
    }

    @Test
    @DisplayName("No token or a bad token (forged, expired, without exp, not valid yet) is 401 with a JSON body;"
            + " /health needs none")
    void unauthenticated() {
        HttpResponse<Buffer> none = get("/api/files?user_id=a", null).send().await();
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(none.bodyAsJsonObject().getString("error")).isEqualTo("unauthorized");
        String forged =
                Tokens.of(vertx, "some-other-secret-some-other-secret-xx").issue("a", true, Duration.ofMinutes(5));
        assertThat(get("/api/files?user_id=a", forged).send().await().statusCode())
                .isEqualTo(401);
        String expired = TestTokens.expired(tokens, "a");
        HttpResponse<Buffer> late = get("/api/files?user_id=a", expired).send().await();
        assertThat(late.statusCode()).isEqualTo(401);
        assertThat(late.bodyAsJsonObject().getString("message")).contains("expired");
        String forever = tokens.provider()
                .generateToken(
                        new JsonObject().put("sub", "admin-x").put("roles", new JsonArray().add("admin")),
                        new JWTOptions().setAlgorithm("HS256"));
        HttpResponse<Buffer> noExpiry =
                get("/api/files?user_id=a", forever).send().await();
        assertThat(noExpiry.statusCode()).as(noExpiry.bodyAsString()).isEqualTo(401);
        assertThat(noExpiry.bodyAsJsonObject().getString("error")).isEqualTo("unauthorized");
        assertThat(noExpiry.bodyAsJsonObject().getString("message")).contains("no exp");
        long now = System.currentTimeMillis() / 1000;
        String early = tenantA(new JsonObject().put("nbf", now + 3600).put("exp", now + 7200), true);
        HttpResponse<Buffer> notYet = get("/api/files?user_id=a", early).send().await();
        assertThat(notYet.statusCode()).isEqualTo(401);
        assertThat(notYet.bodyAsJsonObject().getString("message")).contains("not valid yet");
        // Issued in the future (a clock ahead): refused as the library refuses it, named as such.
        String ahead = tenantA(new JsonObject().put("iat", now + 3600).put("exp", now + 7200), false);
        HttpResponse<Buffer> issuedAhead =
                get("/api/files?user_id=a", ahead).send().await();
        assertThat(issuedAhead.statusCode()).isEqualTo(401);
        assertThat(issuedAhead.bodyAsJsonObject().getString("message"))
                .contains("not valid yet")
                .contains("iat");
        assertThat(get("/health", null).send().await().statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("A token whose header lists crit extensions (none is understood here) is 401 naming crit")
    void critHeaderRefused() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        JsonObject claims = new JsonObject()
                .put("sub", "tenant-crit")
                .put("tenant", "crit")
                .put("iat", now)
                .put("exp", now + 600);
        JsonObject header = new JsonObject().put("alg", "HS256").put("typ", "JWT");
        assertThat(get("/api/files", signed(header, claims)).send().await().statusCode())
                .as("the same token without crit")
                .isEqualTo(200);
        String critical =
                signed(header.copy().put("crit", new JsonArray().add("exp-ext")).put("exp-ext", true), claims);
        HttpResponse<Buffer> refused = get("/api/files", critical).send().await();
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(401);
        assertThat(refused.bodyAsJsonObject().getString("error")).isEqualTo("unauthorized");
        assertThat(refused.bodyAsJsonObject().getString("message"))
                .contains("crit")
                .contains("exp-ext");
    }

    @Test
    @DisplayName("A token living longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS (default 30 d; exp centuries ahead) is"
            + " 401 saying so, with iat or without; one within it is taken, and none longer is issued")
    void tooLongLivedRefused() {
        long now = System.currentTimeMillis() / 1000;
        long centuries = 300L * 365 * 86_400;
        HttpResponse<Buffer> stamped = get(
                        "/api/files",
                        lifetimeToken(new JsonObject().put("iat", now).put("exp", now + centuries)))
                .send()
                .await();
        assertThat(stamped.statusCode()).as(stamped.bodyAsString()).isEqualTo(401);
        assertThat(stamped.bodyAsJsonObject().getString("message"))
                .contains("lifetime (exp - iat) is 109500 d")
                .contains("at most 30 d (AUTH_MAX_TOKEN_LIFETIME_SECONDS)");
        HttpResponse<Buffer> unstamped = get("/api/files", lifetimeToken(new JsonObject().put("exp", now + centuries)))
                .send()
                .await();
        assertThat(unstamped.statusCode()).as(unstamped.bodyAsString()).isEqualTo(401);
        assertThat(unstamped.bodyAsJsonObject().getString("message")).contains("lifetime (exp - now)");
        // Issued a while ago for 29 days: within the limit, whatever is left of it.
        HttpResponse<Buffer> within = get(
                        "/api/files",
                        lifetimeToken(new JsonObject().put("iat", now - 3600).put("exp", now - 3600 + 29L * 86_400)))
                .send()
                .await();
        assertThat(within.statusCode()).as(within.bodyAsString()).isEqualTo(200);
        assertThatThrownBy(() -> tokens.issue("a", false, Duration.ofDays(31)))
                .hasMessageContaining("at most 30 d (AUTH_MAX_TOKEN_LIFETIME_SECONDS), not 31 d");
    }

    /** A token of tenant lifetime with {@code times} (no iat unless given), signed with the node's secret. */
    private static String lifetimeToken(JsonObject times) {
        return tokens.provider()
                .generateToken(
                        times.copy().put("sub", "tenant-lifetime").put("tenant", "lifetime"),
                        new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    }

    /** {@code header} and {@code claims} signed HS256 with the node's secret, byte for byte as given. */
    private static String signed(JsonObject header, JsonObject claims) throws Exception {
        var base64 = Base64.getUrlEncoder().withoutPadding();
        String input = base64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
                + base64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return input + "." + base64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    @DisplayName("A tenant token acts on its own tenant only: another user_id is 403, none means its own")
    void tenantScope() {
        String a = TestStack.unique("a");
        String b = TestStack.unique("b");
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", a)
                .textFileUpload("file", "n.txt", Buffer.buffer(utf8("hello tenants")), "text/plain");
        HttpResponse<Buffer> up = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .bearerTokenAuthentication(tenant(a))
                .sendMultipartForm(form)
                .await();
        assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(201);
        String fileId = up.bodyAsJsonObject().getString("id");
        MultipartForm forgedForm = MultipartForm.create()
                .attribute("user_id", b)
                .textFileUpload("file", "n.txt", Buffer.buffer(utf8("not mine")), "text/plain");
        assertThat(web.post(node.httpPort(), "127.0.0.1", "/api/files")
                        .bearerTokenAuthentication(tenant(a))
                        .sendMultipartForm(forgedForm)
                        .await()
                        .statusCode())
                .isEqualTo(403);
        HttpResponse<Buffer> other =
                get("/api/files?user_id=" + b, tenant(a)).send().await();
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(other.bodyAsJsonObject().getString("message")).contains(b);
        HttpResponse<Buffer> own = get("/api/files", tenant(a)).send().await();
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(own.bodyAsString()).contains(fileId);
        assertThat(get("/api/files/" + fileId, tenant(b)).send().await().statusCode())
                .isEqualTo(404);
        assertThat(get("/api/sync/status/" + b, tenant(a)).send().await().statusCode())
                .isEqualTo(403);
        HttpResponse<Buffer> analyze = web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .bearerTokenAuthentication(tenant(a))
                .sendJsonObject(new JsonObject().put("user_id", b))
                .await();
        assertThat(analyze.statusCode()).isEqualTo(403);
        HttpResponse<Buffer> mine = web.post(node.httpPort(), "127.0.0.1", "/api/sync/analyze")
                .bearerTokenAuthentication(tenant(a))
                .sendJsonObject(new JsonObject())
                .await();
        assertThat(mine.statusCode()).as(mine.bodyAsString()).isEqualTo(200);
        assertThat(mine.bodyAsJsonObject().getString("scope")).isEqualTo("tenant:" + a);
    }

    @Test
    @DisplayName("Admin routes need the admin role")
    void adminRoutes() {
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        String a = tenant(TestStack.unique("a"));
        assertThat(web.post(node.httpPort(), "127.0.0.1", "/api/v1/sync/cleanup")
                        .bearerTokenAuthentication(a)
                        .send()
                        .await()
                        .statusCode())
                .isEqualTo(403);
        assertThat(get("/api/sync/status", a).send().await().statusCode()).isEqualTo(403);
        assertThat(web.post(node.httpPort(), "127.0.0.1", "/api/sync/consistency-check")
                        .bearerTokenAuthentication(a)
                        .send()
                        .await()
                        .statusCode())
                .isEqualTo(403);
        assertThat(web.post(node.httpPort(), "127.0.0.1", "/api/v1/sync/cleanup")
                        .bearerTokenAuthentication(admin)
                        .send()
                        .await()
                        .statusCode())
                .isEqualTo(200);
        assertThat(get("/api/sync/status", admin).send().await().statusCode()).isEqualTo(200);
        assertThat(web.post(node.httpPort(), "127.0.0.1", "/api/sync/consistency-check")
                        .bearerTokenAuthentication(admin)
                        .send()
                        .await()
                        .statusCode())
                .isEqualTo(202);
    }

    @Test
    @DisplayName("Past the per-token rate: 429 with Retry-After, for that token only")
    void rateLimit() {
        String flooder = tenant(TestStack.unique("flood"));
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < 45; i++) {
            codes.add(get("/api/files", flooder).send().await().statusCode());
        }
        assertThat(codes.subList(0, 40)).containsOnly(200);
        HttpResponse<Buffer> limited = get("/api/files", flooder).send().await();
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(Integer.parseInt(limited.getHeader("Retry-After"))).isBetween(1, 60);
        assertThat(get("/api/files", tenant(TestStack.unique("calm")))
                        .send()
                        .await()
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    @DisplayName("CORS: the configured origin is allowed, another is not")
    void cors() {
        HttpResponse<Buffer> allowed = web.request(HttpMethod.OPTIONS, node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Origin", "https://admin.example.com")
                .putHeader("Access-Control-Request-Method", "GET")
                .send()
                .await();
        assertThat(allowed.getHeader("Access-Control-Allow-Origin")).isEqualTo("https://admin.example.com");
        HttpResponse<Buffer> refused = web.request(HttpMethod.OPTIONS, node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Origin", "https://evil.example.com")
                .putHeader("Access-Control-Request-Method", "GET")
                .send()
                .await();
        assertThat(refused.getHeader("Access-Control-Allow-Origin")).isNull();
    }

    @Test
    @DisplayName("The token command prints a token the node accepts; a blank secret is refused with external stores")
    void tokenCommand() throws Exception {
        ProcessBuilder pb = ChildJvm.java(
                        List.of(), "io.trisync.Main", "token", "--tenant", "cli-tenant", "--ttl", "5m")
                .redirectErrorStream(false);
        pb.environment().put("AUTH_JWT_SECRET", SECRET);
        Process p = pb.start();
        String token = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        Caller caller = tokens.verify(token).await();
        assertThat(caller.tenant()).isEqualTo("cli-tenant");
        assertThat(caller.admin()).isFalse();
        assertThat(get("/api/files", token).send().await().statusCode()).isEqualTo(200);

        ProcessBuilder external =
                ChildJvm.java(List.of(), "io.trisync.Main", "token", "--admin").redirectErrorStream(false);
        external.environment().put("AUTH_JWT_SECRET", "");
        external.environment().put("MONGO_URI", "mongodb://db.example.com:27017");
        Process q = external.start();
        String err = new String(q.getErrorStream().readAllBytes());
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).isEqualTo(2);
        assertThat(err).contains("AUTH_JWT_SECRET");
    }

    /** A token of tenant a signed with the node's secret, with {@code times}; {@code stamped}: the library adds iat. */
    private static String tenantA(JsonObject times, boolean stamped) {
        return tokens.provider()
                .generateToken(
                        times.copy().put("sub", "tenant-a").put("tenant", "a"),
                        new JWTOptions().setAlgorithm("HS256").setNoTimestamp(!stamped));
    }
}
