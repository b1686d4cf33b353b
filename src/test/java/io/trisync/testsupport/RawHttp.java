package io.trisync.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, byte for byte as written: for requests no well-behaved client sends
 * (no Host header, a broken multipart body, a chunk size of {@code zz}). One request a connection.
 */
public final class RawHttp {

    private RawHttp() {}

    /** What came back: the status (0 when the server closed without answering, -1 on a timeout). */
    public record Reply(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Sends {@code request} to {@code port} and reads one response, waiting at most {@code timeoutMs}. */
    public static Reply exchange(int port, byte[] request, long timeoutMs) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) timeoutMs);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException e) {
                // The server may answer and close before reading everything (a refused header): read on.
            }
            return read(socket.getInputStream());
        } catch (SocketTimeoutException e) {
            return new Reply(-1, Map.of(), "");
        } catch (IOException e) {
            return new Reply(0, Map.of(), String.valueOf(e.getMessage()));
        }
    }

    /**
     * Sends {@code head} (a request line and headers ending in a blank line, with {@code Expect:
     * 100-continue}) alone, as curl and other clients do, and sends {@code body} only once the server
     * has answered {@code 100 Continue}; returns the answer that follows. When the server answers
     * otherwise first, that answer is returned and the body is never sent; when it answers nothing
     * within {@code timeoutMs} (per read), the status is -1, as for {@link #exchange}.
     */
    public static Reply exchangeAfterContinue(int port, String head, byte[] body, long timeoutMs) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) timeoutMs);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            Reply interim = read(in);
            if (interim.status() != 100) {
                return interim;
            }
            out.write(body);
            out.flush();
            return read(in);
        } catch (SocketTimeoutException e) {
            return new Reply(-1, Map.of(), "");
        } catch (IOException e) {
            return new Reply(0, Map.of(), String.valueOf(e.getMessage()));
        }
    }

    /** A request with a Content-Length computed from {@code body}; {@code headers} are lines without CRLF. */
    public static byte[] request(String method, String target, String body, String... headers) {
        return request(method, target, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    public static byte[] request(String method, String target, byte[] body, String... headers) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
        for (String h : headers) {
            head.append(h).append("\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** Reads one response from {@code in} (its status line, headers and a body of its Content-Length or chunks). */
    public static Reply read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' || b == '\n') ? matched + 1 : 0;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        if (text.isBlank()) {
            return new Reply(0, Map.of(), "");
        }
        String[] lines = text.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        int status = Integer.parseInt(statusLine[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(
                        lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String length = headers.get("content-length");
        if (length != null) {
            byte[] bytes = in.readNBytes(Integer.parseInt(length));
            body.writeBytes(bytes);
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            readChunked(in, body);
        }
        return new Reply(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static void readChunked(InputStream in, ByteArrayOutputStream body) throws IOException {
        while (true) {
            StringBuilder size = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                if (b != '\r') {
                    size.append((char) b);
                }
            }
            int n = Integer.parseInt(size.toString().split(";")[0].trim(), 16);
            if (n == 0) {
                return;
            }
            body.writeBytes(in.readNBytes(n));
            in.readNBytes(2);
        }
    }
}
