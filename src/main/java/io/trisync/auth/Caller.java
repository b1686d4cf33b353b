package io.trisync.auth;

import io.trisync.failure.Failure;
import io.trisync.store.Ids;

/**
 * Who is calling, from a verified token: an admin may act on any tenant (and on all at once); a
 * tenant caller only on its own. With authentication off, every caller is {@link #UNAUTHENTICATED},
 * which acts as an admin.
 */
public record Caller(String subject, String tenant, boolean admin) {

    public static final Caller UNAUTHENTICATED = new Caller("anonymous", null, true);

    /**
     * The tenant a request acts on. An admin gets what it asked for (null: all); a tenant caller gets
     * its own tenant when it names none, and a refusal when it names another.
     */
    public String tenantFor(String requested) {
        if (admin || requested == null && tenant == null) {
            return requested;
        }
        if (requested == null || requested.equals(tenant)) {
            return tenant;
        }
        if (!Ids.valid(requested)) {
            // A malformed id is the caller's mistake whoever asks: 400 naming it, as for an admin.
            Ids.require("user_id", requested);
        }
        throw new Failure.Forbidden("user_id " + requested + " is not this token's tenant");
    }

    /** Refuses a caller that is not an admin. */
    public void requireAdmin(String what) {
        if (!admin) {
            throw new Failure.Forbidden(what + " needs an admin token");
        }
    }
}
