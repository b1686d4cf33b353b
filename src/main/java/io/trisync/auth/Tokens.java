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
 *
 * <p>Two checks the library does not make: a token whose header lists {@code crit} extensions is
 * refused (RFC 7515 §4.1.11: a verifier must refuse one naming an extension it does not understand,
 * and this one understands none), and so is one whose lifetime ({@code exp} − {@code iat}, or {@code
 * exp} − now without {@code iat}) exceeds {@code AUTH_MAX_TOKEN_LIFETIME_SECONDS}: an {@code exp}
 * centuries ahead made a token that was never to expire, which a missing {@code exp} is refused for.
 */
public final class Tokens {

    /** Where a generated secret is kept, under DATA_DIR. */
    public static final String SECRET_FILE = "jwt-secret";

    /** Not a tenant: {@code trisync.events.all} is every tenant's events. */
    static final String RESERVED = Ids.RESERVED;

    /** The longest lifetime of a token unless configured ({@code AUTH_MAX_TOKEN_LIFETIME_SECONDS}): 30 days. */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofDays(30);

    private final JWTAuth provider;
    private final boolean canIssue;
    private final Duration maxLifetime;

    private Tokens(JWTAuth provider, boolean canIssue, Duration maxLifetime) {
        this.provider = provider;
        this.canIssue = canIssue;
        this.maxLifetime = maxLifetime;
    }

    /**
     * What tokens are verified with: the HS256 {@code secret} (null when only {@code jwks} is
     * configured; then this node cannot issue tokens) and the public keys of {@code jwks}.
     */
    public record Keys(String secret, List<JsonObject> jwks) {}

    /** Tokens signed with {@code secret}, living at most {@link #DEFAULT_MAX_LIFETIME}. */
    public static Tokens of(Vertx vertx, String secret) {
        return of(vertx, new Keys(secret, List.of()));
    }

    /** Tokens signed with {@code secret}, living at most {@code maxLifetime}. */
    public static Tokens of(Vertx vertx, String secret, Duration maxLifetime) {
        return of(vertx, new Keys(secret, List.of()), maxLifetime);
    }

    /** Tokens signed with the secret of {@code keys} or one of its public keys, living at most the default. */
    public static Tokens of(Vertx vertx, Keys keys) {
        return of(vertx, keys, DEFAULT_MAX_LIFETIME);
    }

    /** Tokens signed with the secret of {@code keys} or one of its public keys, living at most {@code maxLifetime}. */
    public static Tokens of(Vertx vertx, Keys keys, Duration maxLifetime) {
        JWTAuthOptions options = new JWTAuthOptions();
        if (keys.secret() != null) {
            options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(keys.secret()))
                    .setJWTOptions(new JWTOptions().setAlgorithm("HS256"));
        }
        keys.jwks().forEach(options::addJwk);
        return new Tokens(JWTAuth.create(vertx, options), keys.secret() != null, maxLifetime);
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
        if (ttl.compareTo(maxLifetime) > 0) {
            throw new Failure.BadRequest("a token lives at most " + human(maxLifetime.toSeconds())
                    + " (AUTH_MAX_TOKEN_LIFETIME_SECONDS), not " + human(ttl.toSeconds()));
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
        String critical = critical(token);
        if (critical != null) {
            return Future.failedFuture(critical);
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
                    .compose(user -> {
                        String tooLong = tooLong(token);
                        return tooLong == null ? caller(user) : Future.failedFuture(tooLong);
                    });
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
        JsonObject claims = part(token, 1);
        if (claims == null) {
            return null;
        }
        try {
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

    /**
     * Why {@code token}'s header must be refused for its {@code crit} parameter, or null when it has
     * none (or no header to read: the library then refuses the token itself). Every extension it names
     * is one this verifier does not understand (RFC 7515 §4.1.11), and the library ignored them.
     */
    private static String critical(String token) {
        JsonObject header = part(token, 0);
        if (header == null || !header.containsKey("crit")) {
            return null;
        }
        return "its header's crit parameter lists " + header.getValue("crit")
                + ": extensions this service does not understand, so it cannot accept the token (RFC 7515 §4.1.11)";
    }

    /**
     * Why a verified {@code token} lives too long, or null: its {@code exp} is more than the maximum
     * after its {@code iat} (after now without one).
     */
    private String tooLong(String token) {
        JsonObject claims = part(token, 1);
        if (claims == null || !(claims.getValue("exp") instanceof Number exp)) {
            return null;
        }
        boolean issued = claims.getValue("iat") instanceof Number;
        long from = issued
                ? ((Number) claims.getValue("iat")).longValue()
                : Instant.now().getEpochSecond();
        long lifetime = exp.longValue() - from;
        if (lifetime <= maxLifetime.toSeconds()) {
            return null;
        }
        return "its lifetime (exp - " + (issued ? "iat" : "now") + ") is " + human(lifetime) + "; tokens live at most "
                + human(maxLifetime.toSeconds()) + " (AUTH_MAX_TOKEN_LIFETIME_SECONDS): issue a shorter one";
    }

    /** The JSON of a token's {@code index}-th part (0: header, 1: claims), read unverified; null if it is not one. */
    private static JsonObject part(String token, int index) {
        try {
            String[] parts = token.split("\\.");
            return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[index]), StandardCharsets.UTF_8));
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    /**
     * {@code seconds} as a person reads it, exactly: {@code 90 s}, {@code 30 min}, {@code 12 h},
     * {@code 30 d}, {@code 30 d 1 h}, {@code 30 d 1 s} (a lifetime one second over a limit of 30 days
     * must not read as 30 days).
     */
    public static String human(long seconds) {
        if (seconds <= 0 || (seconds < 120 && seconds % 60 != 0)) {
            return seconds + " s";
        }
        StringBuilder out = new StringBuilder();
        long[] sizes = {86_400, 3600, 60, 1};
        String[] units = {"d", "h", "min", "s"};
        long left = seconds;
        for (int i = 0; i < sizes.length; i++) {
            long n = left / sizes[i];
            left %= sizes[i];
            if (n > 0) {
                out.append(out.isEmpty() ? "" : " ").append(n).append(' ').append(units[i]);
            }
        }
        return out.toString();
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
