package io.trisync.http;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Which charsets a multipart body, or one of its parts, may declare (pure: no I/O). Netty's multipart
 * decoder looks for a part's delimiter ({@code CRLF--boundary}) and reads its headers in the charset
 * the part (or the request) declares: in one that does not write ASCII as ASCII (UTF-16, UTF-32, an
 * EBCDIC code page) it never finds the delimiter, and the part never ends ("the multipart body ended
 * inside a part", or a field read as missing: "user_id is required"). A charset the JVM does not know
 * fails the decoder too. Such a declaration is refused naming it and what is taken instead.
 */
final class MultipartCharsets {

    /** What a delimiter and a part's headers are made of, which a usable charset writes as ASCII does. */
    private static final String FRAMING = "\r\n--azAZ09'()+_,-./:=?\"; ";

    /** The charsets a refusal names as taken. */
    static final String TAKEN = "UTF-8 (the default when none is declared), US-ASCII, ISO-8859-1, windows-1252 or"
            + " another charset that writes ASCII as ASCII";

    private MultipartCharsets() {}

    /**
     * Why {@code charset} (a {@code charset} parameter's value; null: none declared) cannot frame a
     * multipart body, or null when it can: said as "charset=… is …", for a message that names the field.
     */
    static String problem(String charset) {
        if (charset == null) {
            return null;
        }
        Charset known;
        try {
            known = Charset.forName(charset);
        } catch (RuntimeException e) {
            return "charset=" + shown(charset) + " is not a charset this server knows; it takes " + TAKEN;
        }
        byte[] ascii = FRAMING.getBytes(StandardCharsets.US_ASCII);
        if (!known.canEncode() || !Arrays.equals(FRAMING.getBytes(known), ascii)) {
            return "charset=" + shown(charset) + " is not supported in a multipart body: its boundary and part"
                    + " headers are ASCII, which " + known.name() + " does not write as ASCII; it takes " + TAKEN;
        }
        return null;
    }

    private static String shown(String charset) {
        return charset.length() <= 40 ? charset : charset.substring(0, 40) + "…";
    }
}
