package io.trisync.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.Node;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tokens of an identity provider, verified with the public keys of {@code AUTH_JWKS_FILE}: a node with
 * external stores and no HS256 secret starts, accepts RS256 tokens signed by the provider's key with
 * the same tenant and admin rules, and refuses tokens signed otherwise.
 */
@Timeout(120)
class JwksIT {

    static Node node;
    static Vertx vertx;
    static WebClient web;
    static KeyPair provider;
    static KeyPair impostor;

    @BeforeAll
    static void start() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        provider = rsa.generateKeyPair();
        impostor = rsa.generateKeyPair();
        Path jwks = TestStack.tempDir("trisync-jwks").resolve("jwks.json");
        Files.writeString(
                jwks,
                new JsonObject()
                        .put("keys", new JsonArray().add(publicJwk(provider)))
                        .encode());
        // The shared test stores are external to this node, so without the key set it would refuse a blank secret.
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED", "true",
                                "AUTH_JWT_SECRET", "",
                                "AUTH_JWKS_FILE", jwks.toString())),
                        false)
                .await();
        vertx = Vertx.vertx();
        web = WebClient.create(vertx);
    }

    @AfterAll
    static void stop() {
        web.close();
        vertx.close().await();
        node.stop().await();
    }

    @Test
    @DisplayName("An RS256 token of the key set's provider is accepted, with the usual tenant and admin rules")
    void providerTokens() {
        String a = TestStack.unique("a");
        String b = TestStack.unique("b");
        assertThat(status("/api/files?user_id=" + a, token(provider, a, false))).isEqualTo(200);
        assertThat(status("/api/files?user_id=" + b, token(provider, a, false))).isEqualTo(403);
        assertThat(status("/api/sync/tenants", token(provider, a, false))).isEqualTo(403);
        assertThat(status("/api/sync/tenants", token(provider, null, true))).isEqualTo(200);
    }

    @Test
    @DisplayName("Tokens signed by another key, or with any HS256 secret, are 401")
    void otherTokens() {
        String a = TestStack.unique("a");
        assertThat(status("/api/files?user_id=" + a, token(impostor, a, false))).isEqualTo(401);
        String hs256 = Tokens.of(vertx, "some-secret-some-secret-some-secret-x").issue(a, true, Duration.ofMinutes(5));
        assertThat(status("/api/files?user_id=" + a, hs256)).isEqualTo(401);
    }

    @Test
    @DisplayName("A key set with a private or symmetric key, or none, is refused with the reason")
    void badKeySets() throws Exception {
        Path dir = TestStack.tempDir("trisync-jwks-bad");
        JsonObject privateKey = publicJwk(provider).put("d", "AQAB");
        JsonObject symmetric =
                new JsonObject().put("kty", "oct").put("alg", "HS256").put("k", "c2VjcmV0");
        for (JsonObject set : new JsonObject[] {
            new JsonObject().put("keys", new JsonArray().add(privateKey)),
            new JsonObject().put("keys", new JsonArray().add(symmetric)),
            new JsonObject().put("keys", new JsonArray())
        }) {
            Path file = Files.writeString(dir.resolve("set.json"), set.encode());
            assertThatThrownBy(() -> Tokens.jwks(file))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("AUTH_JWKS_FILE");
        }
        Path garbage = Files.writeString(dir.resolve("garbage.json"), "not json");
        assertThatThrownBy(() -> Tokens.jwks(garbage)).hasMessageContaining("not a readable JSON Web Key Set");
        Tokens verifyOnly = Tokens.of(vertx, new Tokens.Keys(null, List.of(publicJwk(provider))));
        assertThatThrownBy(() -> verifyOnly.issue("a", false, Duration.ofMinutes(1)))
                .hasMessageContaining("only verifies tokens");
    }

    private static int status(String path, String token) {
        HttpResponse<Buffer> r = web.get(node.httpPort(), "127.0.0.1", path)
                .bearerTokenAuthentication(token)
                .send()
                .await();
        return r.statusCode();
    }

    /** An RS256 token as an identity provider would sign it with {@code keys} (key id k1). */
    private static String token(KeyPair keys, String tenant, boolean admin) {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        JWTAuth signer = JWTAuth.create(
                vertx,
                new JWTAuthOptions()
                        .addPubSecKey(new PubSecKeyOptions()
                                .setAlgorithm("RS256")
                                .setId("k1")
                                .setBuffer(pem)));
        JsonObject claims = new JsonObject()
                .put("sub", "idp-user")
                .put("roles", admin ? new JsonArray().add("admin") : new JsonArray());
        if (tenant != null) {
            claims.put("tenant", tenant);
        }
        return signer.generateToken(
                claims, new JWTOptions().setAlgorithm("RS256").setExpiresInMinutes(5));
    }

    private static JsonObject publicJwk(KeyPair keys) {
        RSAPublicKey pub = (RSAPublicKey) keys.getPublic();
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return new JsonObject()
                .put("kty", "RSA")
                .put("alg", "RS256")
                .put("use", "sig")
                .put("kid", "k1")
                .put("n", b64.encodeToString(unsigned(pub.getModulus().toByteArray())))
                .put("e", b64.encodeToString(unsigned(pub.getPublicExponent().toByteArray())));
    }

    private static byte[] unsigned(byte[] twosComplement) {
        return twosComplement.length > 1 && twosComplement[0] == 0
                ? Arrays.copyOfRange(twosComplement, 1, twosComplement.length)
                : twosComplement;
    }
}
