package io.trisync.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.trisync.store.FileFields;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * The file names of a multipart body's parts as they were sent. Netty's multipart decoder passes every
 * part's file name through its {@code cleanString} ({@code , : ; =} and tab become a space, {@code "}
 * is dropped, blanks at either end trimmed), so {@code Report, final.txt} reached trisync as {@code
 * Report  final.txt}. This handler, one per HTTP/1 connection before Vert.x's own, reads the body's
 * part headers on their way: the boundary never occurs inside a part (RFC 2046), so each {@code
 * CRLF--boundary} is a delimiter and the lines after it up to a blank line are the part's headers.
 * {@link #of} gives the name of the request's first file part ({@code filename="…"} as sent,
 * without its quotes; null for a part named by {@code filename*} or whose headers could not be read),
 * and {@link #pick} takes one only where the decoder's name is its cleaned form, so a name is never
 * taken from another part.
 *
 * <p>The names are kept per request, not per connection: with HTTP/1.1 pipelining the next request's
 * head and body pass through here while the one before waits in Vert.x (an asynchronous handler
 * before its body is read: the cluster's rate limit), so names kept for "the connection's current
 * request" were the next one's by the time the first read them. Each request's names are found by
 * its headers object, the one Netty's decoder made and Vert.x serves as the request's headers; a
 * request this handler has no entry for keeps the decoder's names.
 */
final class RawFileNames extends ChannelInboundHandlerAdapter {

    static final String NAME = "trisync.raw-file-names";

    /** Part headers longer than this are not read (the decoder's name is kept). */
    static final int MAX_HEADERS = 16 * 1024;
    /** Multipart requests remembered per connection (pipelined ones wait in Vert.x); older ones keep the decoder's names. */
    static final int MAX_REQUESTS = 16;

    /** A multipart request's headers (by identity) and what is read from its body so far. */
    private record Entry(HttpHeaders headers, Scanner scanner) {}

    /** The connection's latest multipart requests, oldest first. */
    private final Deque<Entry> requests = new ArrayDeque<>();

    private Scanner scanner;

    static void install(HttpConnection connection) {
        BeforeVertx.install(connection, NAME, RawFileNames::new);
    }

    /** The names read from {@code request}'s body, or an empty list when this handler did not see it. */
    static List<String> of(HttpServerRequest request) {
        Scanner scanner = scanner(request);
        if (scanner == null) {
            return List.of();
        }
        synchronized (scanner.names) {
            return new ArrayList<>(scanner.names);
        }
    }

    /**
     * The {@code charset} the {@code index}-th file part's own {@code Content-Type} declares, as sent;
     * null when it declares none or its headers were not read. (Netty's decoder gives a part without
     * one the request's charset, or one its {@code Content-Transfer-Encoding} implies, or UTF-8: none
     * of them declared by the part.)
     */
    static String charset(HttpServerRequest request, int index) {
        Scanner scanner = scanner(request);
        if (scanner == null) {
            return null;
        }
        synchronized (scanner.names) {
            return index < scanner.charsets.size() ? scanner.charsets.get(index) : null;
        }
    }

    /**
     * The refusal of the first part (as far as the body was read: every part, those after the file part
     * too) whose own {@code Content-Type} declares a charset a multipart body cannot be read in ({@link
     * MultipartCharsets}), naming its field; null when there is none. Netty's decoder looks for that
     * part's end in its charset and never finds it.
     */
    static String refusedCharset(HttpServerRequest request) {
        Scanner scanner = scanner(request);
        if (scanner == null) {
            return null;
        }
        synchronized (scanner.names) {
            return scanner.refused;
        }
    }

    private static Scanner scanner(HttpServerRequest request) {
        if (request.connection() instanceof ConnectionBase base
                && base.channel().pipeline().get(NAME) instanceof RawFileNames handler) {
            return handler.scanner(request.headers());
        }
        return null;
    }

    /** The scanner of the request whose headers are {@code headers} (the same object), or null. */
    private Scanner scanner(Object headers) {
        synchronized (requests) {
            for (Entry entry : requests) {
                if (entry.headers() == headers) {
                    return entry.scanner();
                }
            }
        }
        return null;
    }

    /**
     * The name of the {@code index}-th file part: the one read from the body when the decoder's name
     * ({@code decoded}) is its cleaned form, else {@code decoded}.
     */
    static String pick(List<String> raw, int index, String decoded) {
        if (index < raw.size()) {
            String name = raw.get(index);
            if (name != null && decoded != null && cleaned(name).equals(decoded)) {
                return name;
            }
        }
        return decoded;
    }

    /** What Netty's decoder makes of a file name ({@code HttpPostMultipartRequestDecoder.cleanString}). */
    static String cleaned(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            switch (c) {
                case ':', ',', '=', ';', '\t' -> out.append(' ');
                case '"' -> {}
                default -> out.append(c);
            }
        }
        return out.toString().trim();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
            String boundary = boundary(contentType);
            scanner = boundary == null ? null : new Scanner(boundary, utf8(FileFields.charset(contentType)));
            if (scanner != null) {
                synchronized (requests) {
                    requests.addLast(new Entry(request.headers(), scanner));
                    if (requests.size() > MAX_REQUESTS) {
                        requests.removeFirst();
                    }
                }
            }
        }
        if (msg instanceof HttpContent content && scanner != null) {
            scanner.feed(content.content());
        }
        ctx.fireChannelRead(msg);
    }

    /** Whether a request of this declared charset (null: none) has its part headers read as UTF-8. */
    static boolean utf8(String charset) {
        return charset == null || charset.equalsIgnoreCase("utf-8") || charset.equalsIgnoreCase("utf8");
    }

    /** Whether {@code bytes} are well-formed UTF-8. */
    static boolean wellFormed(byte[] bytes) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** The boundary of a {@code multipart/form-data} content type, or null. */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).trim().startsWith("multipart/form-data")) {
            return null;
        }
        for (String param : contentType.split(";")) {
            String p = param.trim();
            if (p.regionMatches(true, 0, "boundary=", 0, 9)) {
                String b = p.substring(9).trim();
                if (b.length() >= 2 && b.startsWith("\"") && b.endsWith("\"")) {
                    b = b.substring(1, b.length() - 1);
                }
                return b.isEmpty() ? null : b;
            }
        }
        return null;
    }

    /** Finds each delimiter in a body fed chunk by chunk and reads the part headers after it. */
    static final class Scanner {

        /** Each file part's name as sent; guards {@link #charsets} too. */
        final List<String> names = new ArrayList<>();
        /** Each file part's charset as its own {@code Content-Type} declares it, or null. */
        final List<String> charsets = new ArrayList<>();
        /** {@link #refusedCharset}'s refusal, or null. */
        String refused;

        private final byte[] delimiter;
        private final int[] fallback;
        private int matched;
        private boolean inHeaders;
        private boolean done;
        /** The last four bytes of the headers read, one a byte. */
        private int last4;

        private final ByteArrayOutputStream headers = new ByteArrayOutputStream();

        /** Whether the decoder reads part headers as UTF-8 (the request declares no other charset). */
        private final boolean utf8Headers;

        Scanner(String boundary) {
            this(boundary, true);
        }

        Scanner(String boundary, boolean utf8Headers) {
            this.utf8Headers = utf8Headers;
            delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            fallback = new int[delimiter.length];
            for (int i = 1, k = 0; i < delimiter.length; i++) {
                while (k > 0 && delimiter[i] != delimiter[k]) {
                    k = fallback[k - 1];
                }
                if (delimiter[i] == delimiter[k]) {
                    k++;
                }
                fallback[i] = k;
            }
            // The first delimiter has no CRLF before it.
            matched = 2;
        }

        void feed(ByteBuf bytes) {
            int end = bytes.writerIndex();
            for (int i = bytes.readerIndex(); i < end && !done; i++) {
                if (!inHeaders && matched == 0) {
                    // Outside the headers and no delimiter begun: on to the next CR (a part's content,
                    // up to 50 MB of a file, is passed over at the speed of Netty's own search).
                    i = bytes.indexOf(i, end, (byte) '\r');
                    if (i < 0) {
                        return;
                    }
                }
                feed(bytes.getByte(i));
            }
        }

        void feed(byte b) {
            if (inHeaders) {
                headers.write(b);
                last4 = (last4 << 8) | (b & 0xff);
                int n = headers.size();
                if (n == 2 && last4 == (('-' << 8) | '-')) {
                    done = true;
                    return;
                }
                if (n >= 4 && last4 == 0x0d0a0d0a) {
                    byte[] raw = headers.toByteArray();
                    part(new String(raw, StandardCharsets.UTF_8), !utf8Headers || wellFormed(raw));
                    headers.reset();
                    last4 = 0;
                    inHeaders = false;
                } else if (n > MAX_HEADERS) {
                    synchronized (names) {
                        names.add(null);
                        charsets.add(null);
                    }
                    done = true;
                }
                return;
            }
            while (matched > 0 && b != delimiter[matched]) {
                matched = fallback[matched - 1];
            }
            if (b == delimiter[matched]) {
                matched++;
            }
            if (matched == delimiter.length) {
                matched = 0;
                inHeaders = true;
            }
        }

        /**
         * Records the file name and charset of a part with these header lines (after the delimiter's
         * CRLF); {@code readable}: false when they are not the UTF-8 the decoder reads them as.
         */
        private void part(String block, boolean readable) {
            Disposition disposition = null;
            String type = null;
            for (String line : block.split("\r\n")) {
                int colon = line.indexOf(':');
                String header = colon > 0 ? line.substring(0, colon).trim() : "";
                if (header.equalsIgnoreCase("content-disposition") && disposition == null) {
                    disposition = Disposition.parse(line.substring(colon + 1));
                } else if (header.equalsIgnoreCase("content-type") && type == null) {
                    type = line.substring(colon + 1);
                }
            }
            String problem = MultipartCharsets.problem(FileFields.charset(type));
            if (problem != null) {
                synchronized (names) {
                    if (refused == null) {
                        refused = (disposition == null || disposition.name() == null
                                        ? "a part's "
                                        : disposition.name() + ": the part's ")
                                + problem
                                + (disposition != null && disposition.hasFileName()
                                        ? " (a file's bytes are stored as sent: UTF-16 text may be sent with"
                                                + " no charset, its byte order mark tells it)"
                                        : "");
                    }
                }
            }
            if (!readable
                    && disposition != null
                    && disposition.fileName() != null
                    && disposition.fileName().indexOf('\uFFFD') >= 0) {
                // The decoder would put U+FFFD in place of the bytes it cannot read, and the file be
                // stored under a name nobody sent.
                synchronized (names) {
                    if (refused == null) {
                        refused = (disposition.name() == null ? "a part's" : disposition.name() + ": the part's")
                                + " file name is not UTF-8: send it UTF-8 encoded (RFC 7578), or as"
                                + " filename*=UTF-8''… with its bytes percent-encoded (RFC 5987)";
                    }
                }
            }
            if (disposition != null && disposition.hasFileName()) {
                synchronized (names) {
                    names.add(disposition.extended() ? null : disposition.fileName());
                    charsets.add(FileFields.charset(type));
                }
            }
            // The parts after the file part are read on too: a text field there declaring such a
            // charset is refused as one before it is (the decoder would read it in that charset).
        }
    }

    /**
     * A {@code Content-Disposition} value's field {@code name} and file name ({@code filename} as sent),
     * and whether {@code filename*} is there.
     */
    record Disposition(String name, String fileName, boolean extended) {

        boolean hasFileName() {
            return fileName != null || extended;
        }

        static Disposition parse(String value) {
            String name = null;
            String fileName = null;
            boolean extended = false;
            int i = 0;
            int n = value.length();
            while (i < n) {
                int semi = value.indexOf(';', i);
                if (semi < 0) {
                    break;
                }
                i = semi + 1;
                int eq = value.indexOf('=', i);
                if (eq < 0) {
                    break;
                }
                String key = value.substring(i, eq).trim().toLowerCase(Locale.ROOT);
                int j = eq + 1;
                while (j < n && value.charAt(j) == ' ') {
                    j++;
                }
                String v;
                if (j < n && value.charAt(j) == '"') {
                    int k = j + 1;
                    while (k < n && value.charAt(k) != '"') {
                        k += value.charAt(k) == '\\' && k + 1 < n ? 2 : 1;
                    }
                    v = value.substring(j + 1, Math.min(k, n));
                    i = Math.min(k + 1, n);
                } else {
                    int end = value.indexOf(';', j);
                    end = end < 0 ? n : end;
                    v = value.substring(j, end).trim();
                    i = end;
                }
                if (key.equals("name")) {
                    name = v;
                } else if (key.equals("filename")) {
                    fileName = v;
                } else if (key.equals("filename*")) {
                    extended = true;
                }
            }
            return new Disposition(name, fileName, extended);
        }
    }
}
