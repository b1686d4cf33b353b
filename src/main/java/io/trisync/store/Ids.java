package io.trisync.store;

import io.trisync.failure.Failure;
import java.util.regex.Pattern;

/**
 * The safe set for tenant ids (the API's {@code user_id}) and file ids: 1 to 128 characters of
 * letters, digits, {@code . _ @ -}. Tenant ids become S3 key prefixes and event-bus addresses, so
 * nothing outside this set (slashes, spaces, wildcards, control characters) is accepted, nor
 * {@link #RESERVED}.
 */
public final class Ids {

    /** Not an id: {@code trisync.events.all} is the admins' event address, so no tenant may be called so. */
    public static final String RESERVED = "all";

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._@-]{1,128}");

    private Ids() {}

    /** {@code value} when it is a valid id; otherwise {@link Failure.BadRequest} naming {@code field}. */
    public static String require(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new Failure.BadRequest(field + " is required");
        }
        if (!SAFE.matcher(value).matches()) {
            throw new Failure.BadRequest(
                    field + " must be 1 to 128 characters of letters, digits, '.', '_', '@' or '-'");
        }
        if (value.equals(".") || value.equals("..")) {
            throw new Failure.BadRequest(field + " must not be '.' or '..'");
        }
        if (value.equals(RESERVED)) {
            throw new Failure.BadRequest(field + " \"all\" is reserved (trisync.events.all is the admins' address)");
        }
        return value;
    }

    public static boolean valid(String value) {
        return value != null
                && SAFE.matcher(value).matches()
                && !value.equals(".")
                && !value.equals("..")
                && !value.equals(RESERVED);
    }
}
