package io.trisync.auth;

import io.trisync.bus.Ids;
import io.trisync.config.TrisyncConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;

/**
 * JWT bearer tokens (HS256): claims {@code sub}, {@code tenant} (the seeds' user_id) and {@code roles}
 * ({@code admin}). Issues them (the {@code token} command, tests) and verifies them (REST and the
 * event-bus bridge) into a {@link Caller}.
 */
public final class Tokens {

    /** Where a generated secret is kept, under DATA_DIR. */
    public static final String SECRET_FILE = "jwt-secret";

    /** Not a tenant: {@code trisync.events.all} is every tenant's events. */
    static final String RESERVED = "all";

    private final JWTAuth provider;

    private Tokens(JWTAuth provider) {
        this.provider = provider;
    }

    /** Tokens signed with {@code secret}. */
    public static Tokens of(Vertx vertx, String secret) {
        return new Tokens(JWTAuth.create(
                vertx,
                new JWTAuthOptions()
                        .addPubSecKey(
                                new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
                        .setJWTOptions(new JWTOptions().setAlgorithm("HS256"))));
    }

    /**
     * The configured secret; when blank, the one generated at the first run under DATA_DIR (created
     * now if missing, readable by its owner only). A blank secret is refused when any store is
     * external: a production deployment must configure one secret shared by all its nodes.
     */
    public static String secret(TrisyncConfig config) {
        String configured = config.auth().jwtSecret();
        if (!configured.isBlank()) {
            if (configured.length() < 32) {
                throw new IllegalStateException("AUTH_JWT_SECRET must be at least 32 characters");
            }
            return configured;
        }
        if (!(config.mongo().embedded()
                && config.s3().embedded()
                && config.qdrant().embedded())) {
            throw new IllegalStateException(
                    "AUTH_JWT_SECRET must be set when the stores are external (every node of a deployment needs the same secret)");
        }
        Path file = config.dataDir().toAbsolutePath().resolve(SECRET_FILE);
        try {
            if (Files.isRegularFile(file)) {
                return Files.readString(file).trim();
            }
            Files.createDirectories(file.getParent());
            byte[] random = new byte[48];
            new SecureRandom().nextBytes(random);
            String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.writeString(file, secret + "\n");
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // Not a POSIX file system: the file keeps the default permissions.
            }
            return secret;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create " + file + ": " + e.getMessage(), e);
        }
    }

    /** A signed token for {@code tenant} (null for an admin token that names none). */
    public String issue(String tenant, boolean admin, Duration ttl) {
        if (tenant != null) {
            Ids.require("tenant", tenant);
            if (RESERVED.equals(tenant)) {
                throw new IllegalArgumentException(
                        "tenant \"all\" is reserved (trisync.events.all is the admins' address)");
            }
        }
        if (tenant == null && !admin) {
            throw new IllegalArgumentException("a tenant token needs a tenant");
        }
        JsonObject claims = new JsonObject()
                .put("sub", admin ? "admin-" + UUID.randomUUID() : "tenant-" + tenant)
                .put("roles", admin ? new JsonArray().add("admin") : new JsonArray());
        if (tenant != null) {
            claims.put("tenant", tenant);
        }
        return provider.generateToken(
                claims, new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds((int) ttl.toSeconds()));
    }

    /** Verifies a token (signature, expiry) and reads its caller; fails with a reason for a person. */
    public Future<Caller> verify(String token) {
        if (token == null || token.isBlank()) {
            return Future.failedFuture("no token");
        }
        return provider.authenticate(new TokenCredentials(token)).compose(Tokens::caller);
    }

    /** The caller a verified user stands for; a token with neither a valid tenant nor the admin role is refused. */
    public static Future<Caller> caller(User user) {
        JsonObject claims = user.principal();
        String tenant = claims.getString("tenant");
        JsonArray roles = claims.getJsonArray("roles", new JsonArray());
        boolean admin = roles.contains("admin");
        if (tenant != null && (!Ids.valid(tenant) || RESERVED.equals(tenant))) {
            return Future.failedFuture("the token's tenant is malformed");
        }
        if (tenant == null && !admin) {
            return Future.failedFuture("the token names no tenant and is not an admin token");
        }
        return Future.succeededFuture(new Caller(claims.getString("sub"), tenant, admin));
    }

    public JWTAuth provider() {
        return provider;
    }
}
