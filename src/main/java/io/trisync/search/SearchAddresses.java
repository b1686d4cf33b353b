package io.trisync.search;

/** Event-bus addresses owned by {@link SearchVerticle}. */
public final class SearchAddresses {

    /** Sent by the HTTP API ({@code POST /api/search}): a tenant's search; replies with the consistent results. */
    public static final String QUERY = "trisync.search.query";

    /**
     * Sent (one way, no reply) by a search that recorded new issues for the hits it left out: a
     * {@code TenantRef}. With {@code SYNC_AUTO_REPAIR} a repair verticle takes it and applies the repairs
     * that need no person, as after a periodic scan; searches do not know who listens.
     */
    public static final String ISSUES_FOUND = "trisync.search.issues-found";

    private SearchAddresses() {}
}
