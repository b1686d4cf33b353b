package io.trisync.store;

import io.trisync.failure.Failure;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a file's name, content type and labels may hold. They are stored in MongoDB, sent to S3 as
 * headers and served back to browsers, so each is checked once where it enters: a name is text
 * without control characters (NUL, line breaks, DEL…); a content type is a media type as HTTP
 * defines it ({@code type/subtype} with {@code ; key=value} parameters, printable ASCII only); a label
 * key is text MongoDB cannot read as an operator ({@code $…}).
 */
public final class FileFields {

    public static final int MAX_NAME = 1024;
    public static final int MAX_CONTENT_TYPE = 255;

    private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
    private static final String QUOTED = "\"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\t \\x21-\\x7E])*\"";
    /** RFC 9110's media-type: type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] ). */
    private static final Pattern MEDIA_TYPE = Pattern.compile(
            TOKEN + "/" + TOKEN + "(?:[ \\t]*;[ \\t]*(?:" + TOKEN + "=(?:" + TOKEN + "|" + QUOTED + "))?)*");

    private FileFields() {}

    /**
     * A file's name, as an upload's file name or a rename gives it: 1 to {@link #MAX_NAME}
     * characters, not blank, no control character, no path ({@code /} or {@code \}) and not {@code .}
     * or {@code ..}; otherwise {@link Failure.BadRequest} naming {@code field}.
     */
    public static String name(String field, String value) {
        if (value == null || value.isBlank() || value.length() > MAX_NAME) {
            throw new Failure.BadRequest(field + " must be 1 to " + MAX_NAME + " characters, not blank");
        }
        if (hasControl(value) || hasBidiControl(value)) {
            throw new Failure.BadRequest(
                    field + " must not contain control characters (NUL, line breaks, tabs, bidirectional overrides…)");
        }
        if (value.indexOf('/') >= 0 || value.indexOf('\\') >= 0) {
            throw new Failure.BadRequest(field + " must be a file name, without '/' or '\\'");
        }
        if (value.equals(".") || value.equals("..")) {
            throw new Failure.BadRequest(field + " must not be '.' or '..'");
        }
        return value;
    }

    /** Whether {@code value} is a media type ({@code text/plain; charset=utf-8}) of printable ASCII. */
    public static boolean isContentType(String value) {
        return value != null
                && value.length() <= MAX_CONTENT_TYPE
                && MEDIA_TYPE.matcher(value).matches();
    }

    /**
     * {@code contentType}'s media type, without its parameters and in lower case ({@code text/plain}
     * of {@code Text/Plain; charset=ISO-8859-1}); "" for none.
     */
    public static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                .strip()
                .toLowerCase(Locale.ROOT);
    }

    /** The value of {@code contentType}'s {@code charset} parameter, unquoted; null when it declares none. */
    public static String charset(String contentType) {
        if (contentType == null) {
            return null;
        }
        String[] parts = contentType.split(";");
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].strip();
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).strip().equalsIgnoreCase("charset")) {
                String value = parameter.substring(equals + 1).strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                return value.isEmpty() ? null : value;
            }
        }
        return null;
    }

    /** {@code value} when {@link #isContentType}; otherwise {@link Failure.BadRequest} naming {@code field}. */
    public static String contentType(String field, String value) {
        if (!isContentType(value)) {
            throw new Failure.BadRequest(field + " must be a media type such as text/plain or"
                    + " application/pdf (printable ASCII, at most " + MAX_CONTENT_TYPE + " characters)");
        }
        return value;
    }

    /**
     * Whether {@code key} may name a label: any text ({@code app.kubernetes.io/name}, {@code cost
     * center}, {@code 作者}) not blank, without control characters, not starting with {@code $} (an
     * operator to MongoDB).
     */
    public static boolean isLabelKey(String key) {
        return key != null && !key.isBlank() && !hasControl(key) && !key.startsWith("$");
    }

    /** Whether {@code value} may be a label's value: any text without control characters but tab and line breaks. */
    public static boolean isLabelValue(String value) {
        return value.chars().noneMatch(c -> Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r');
    }

    /** Whether {@code value} holds a control character (C0, DEL or C1). */
    public static boolean hasControl(String value) {
        return value.chars().anyMatch(Character::isISOControl);
    }

    /**
     * Whether {@code value} holds a bidirectional override or isolate (U+202A to U+202E, U+2066 to
     * U+2069), which makes a name display as another ({@code invoice\u202Efdp.exe} shows as
     * "invoiceexe.pdf").
     */
    static boolean hasBidiControl(String value) {
        return value.chars().anyMatch(c -> (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069));
    }
}
