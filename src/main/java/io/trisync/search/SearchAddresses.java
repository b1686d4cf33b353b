package io.trisync.search;

/** Event-bus addresses owned by {@link SearchVerticle}. */
public final class SearchAddresses {

    /** Sent by the HTTP API ({@code POST /api/search}): a tenant's search; replies with the consistent results. */
    public static final String QUERY = "trisync.search.query";

    private SearchAddresses() {}
}
