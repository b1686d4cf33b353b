package io.trisync.testsupport;

import io.trisync.auth.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;

/** Tokens the service never issues, signed with the right key: for tests of refusal. */
public final class TestTokens {

    private TestTokens() {}

    /** A correctly signed tenant token whose {@code exp} passed a minute ago (no waiting for expiry). */
    public static String expired(Tokens tokens, String tenant) {
        long now = System.currentTimeMillis() / 1000;
        return tokens.provider()
                .generateToken(
                        new JsonObject()
                                .put("sub", "tenant-" + tenant)
                                .put("tenant", tenant)
                                .put("roles", new JsonArray())
                                .put("iat", now - 120)
                                .put("exp", now - 60),
                        new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    }
}
