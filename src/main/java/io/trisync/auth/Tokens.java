package io.trisync.auth;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.store.Ids;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * JWT bearer tokens: claims {@code sub}, {@code tenant} (the API's {@code user_id}), {@code roles}
 * ({@code admin}) and {@code exp}, which every token must carry. Issues them with the HS256 secret (the {@code token} command, tests) and verifies
 * them (REST and the event-bus bridge) into a {@link Caller}: signed with the secret, or with a
 * public key of the JSON Web Key Set in {@code AUTH_JWKS_FILE} (tokens of an identity provider,
 * RS256/ES256…, chosen by the token's {@code kid} and {@code alg}).
 */
public final class Tokens {

    /** Where a generated secret is kept, under DATA_DIR. */
    public static final String SECRET_FILE = "jwt-secret";

    /** Not a tenant: {@code trisync.events.all} is every tenant's events. */
    static final String RESERVED = Ids.RESERVED;

    private final JWTAuth provider;
    private final boolean canIssue;

    private Tokens(JWTAuth provider, boolean canIssue) {
        this.provider = provider;
        this.canIssue = canIssue;
    }

    /**
     * What tokens are verified with: the HS256 {@code secret} (null when only {@code jwks} is
     * configured; then this node cannot issue tokens) and the public keys of {@code jwks}.
     */
    public record Keys(String secret, List<JsonObject> jwks) {}

    /** Tokens signed with {@code secret}. */
    public static Tokens of(Vertx vertx, String secret) {
        return of(vertx, new Keys(secret, List.of()));
    }

    /** Tokens signed with the secret of {@code keys} or one of its public keys. */
    public static Tokens of(Vertx vertx, Keys keys) {
        JWTAuthOptions options = new JWTAuthOptions();
        if (keys.secret() != null) {
            options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(keys.secret()))
                    .setJWTOptions(new JWTOptions().setAlgorithm("HS256"));
        }
        keys.jwks().forEach(options::addJwk);
        return new Tokens(JWTAuth.create(vertx, options), keys.secret() != null);
    }

    /**
     * The keys a node verifies tokens with: {@link #secret}, and the key set of {@code AUTH_JWKS_FILE}
     * when one is configured. With a key set, the secret may be left blank even with external stores
     * (tokens then come from the identity provider only).
     */
    public static Keys keys(TrisyncConfig config) {
        String file = config.auth().jwksFile();
        if (file.isBlank()) {
            return new Keys(secret(config), List.of());
        }
        List<JsonObject> jwks = jwks(Path.of(file));
        String secret = config.auth().jwtSecret().isBlank() && !embeddedOnly(config) ? null : secret(config);
        return new Keys(secret, jwks);
    }

    /** The public keys of a JSON Web Key Set file ({@code {"keys": [...]}}); private keys are refused. */
    static List<JsonObject> jwks(Path file) {
        JsonObject set;
        try {
            set = new JsonObject(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "AUTH_JWKS_FILE " + file + " is not a readable JSON Web Key Set: " + e.getMessage(), e);
        }
        JsonArray keys = set.getJsonArray("keys");
        if (keys == null || keys.isEmpty()) {
            throw new IllegalStateException("AUTH_JWKS_FILE " + file + " holds no keys (expected {\"keys\": [...]})");
        }
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            JsonObject key = keys.getJsonObject(i);
            if (key.getString("kty") == null || key.getString("alg") == null) {
                throw new IllegalStateException("AUTH_JWKS_FILE " + file + ": key " + i + " needs \"kty\" and \"alg\"");
            }
            if (key.containsKey("d") || "oct".equals(key.getString("kty"))) {
                throw new IllegalStateException("AUTH_JWKS_FILE " + file + ": key " + i
                        + " is private or symmetric; the file must hold public keys only");
            }
            out.add(key);
        }
        return out;
    }

    private static boolean embeddedOnly(TrisyncConfig config) {
        return config.mongo().embedded()
                && config.s3().embedded()
                && config.qdrant().embedded();
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
        if (!embeddedOnly(config)) {
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
        if (!canIssue) {
            throw new IllegalStateException(
                    "this node only verifies tokens (AUTH_JWKS_FILE without AUTH_JWT_SECRET); the identity provider issues them");
        }
        if (tenant != null) {
            Ids.require("tenant", tenant);
            if (RESERVED.equals(tenant)) {
                throw new Failure.BadRequest("tenant \"all\" is reserved (trisync.events.all is the admins' address)");
            }
        }
        if (tenant == null && !admin) {
            throw new Failure.BadRequest("a tenant token needs a tenant");
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
        try {
            return provider.authenticate(new TokenCredentials(token))
                    .recover(e -> {
                        String early = notYetValid(e, token);
                        return Future.failedFuture(
                                early != null
                                        ? new IllegalStateException(
                                                "the token is not valid yet (its " + early + " is in the future)")
                                        : refusal(e));
                    })
                    .compose(Tokens::caller);
        } catch (RuntimeException e) {
            // The library's time checks cast exp, nbf and iat without looking: a claim of another type throws.
            return Future.failedFuture(refusal(e));
        }
    }

    /**
     * The claim ({@code nbf} or {@code iat}) the library's refusal of {@code token} as expired is for, or
     * null when it is expired indeed: the library says "token expired" for all three. Reads the claims
     * unverified, for the message only.
     */
    private static String notYetValid(Throwable e, String token) {
        if (e.getMessage() == null || !e.getMessage().contains("expired")) {
            return null;
        }
        try {
            String[] parts = token.split("\\.");
            JsonObject claims =
                    new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
            long now = Instant.now().getEpochSecond();
            if (claims.getValue("exp") instanceof Number x && x.longValue() <= now) {
                return null;
            }
            if (claims.getValue("nbf") instanceof Number n && n.longValue() > now) {
                return "nbf";
            }
            return claims.getValue("iat") instanceof Number i && i.longValue() > now ? "iat" : null;
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    /** Why a token was refused, without the library's internals: a claim of the wrong type is named as such. */
    private static Throwable refusal(Throwable e) {
        if (e instanceof ClassCastException
                || e instanceof NullPointerException
                || e instanceof NumberFormatException) {
            return new IllegalStateException("a claim has the wrong type (exp, nbf and iat must be numbers)");
        }
        if (e.getMessage() != null && e.getMessage().startsWith("Failed to decode")) {
            // The JSON parser's own words (byte offsets, its feature names) say nothing to a caller.
            return new IllegalStateException("it is not a JWT (three base64url parts: header, claims, signature)");
        }
        return e;
    }

    /**
     * The caller a verified user stands for; a token with neither a valid tenant nor the admin role
     * is refused, and so is one without an {@code exp} (it would be valid forever: the {@code token}
     * command always sets one) and one whose {@code sub}, {@code tenant} or {@code roles} has the
     * wrong type.
     */
    public static Future<Caller> caller(User user) {
        JsonObject claims = user.principal();
        // The library keeps the time claims among the user's attributes, not its principal.
        if (!(user.attributes().getValue("exp") instanceof Number)) {
            return Future.failedFuture(
                    "the token has no exp (expiry) claim; tokens must expire (the token command's" + " --ttl sets it)");
        }
        if (!(claims.getValue("sub") instanceof String)) {
            return Future.failedFuture("the token's sub must be a string");
        }
        Object rawTenant = claims.getValue("tenant");
        if (rawTenant != null && !(rawTenant instanceof String)) {
            return Future.failedFuture("the token's tenant must be a string");
        }
        Object rawRoles = claims.getValue("roles", new JsonArray());
        if (!(rawRoles instanceof JsonArray roles) || !roles.stream().allMatch(r -> r instanceof String)) {
            return Future.failedFuture("the token's roles must be a list of strings");
        }
        String tenant = (String) rawTenant;
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
