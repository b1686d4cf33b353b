package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.RawHttp.Reply;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A request body that keeps arriving, but a byte at a time (each within the idle timeout), is cut
 * once it is slower than {@code HTTP_MIN_BODY_BYTES_PER_SECOND} over the last {@code
 * HTTP_MIN_BODY_RATE_WINDOW_SECONDS}; a slow but steady upload is not. A node of its own, with a
 * 2 s window and 1,000 bytes a second, so the tests take seconds.
 */
@Timeout(300)
class SlowBodyIT {

    static Node node;
    static String tenant;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "HTTP_IDLE_TIMEOUT_SECONDS", "3",
                                "HTTP_MIN_BODY_BYTES_PER_SECOND", "1000",
                                "HTTP_MIN_BODY_RATE_WINDOW_SECONDS", "2")),
                        false)
                .await();
        tenant = TestStack.unique("slow");
    }

    @AfterAll
    static void stop() {
        node.stop().await();
    }

    @Test
    @DisplayName("A body trickled a byte every 250 ms after a fast start (its part spooled) is answered 408 once the"
            + " last window was too slow, the connection closed and the temporary file removed")
    void trickledBodyIsCut() throws Exception {
        // 70 KB at once: beyond what an upload holds in memory, so the part is spooled to a file.
        byte[] fast = new byte[70_000];
        Arrays.fill(fast, (byte) 'a');
        String head = MalformedCorpus.part("form-data; name=\"user_id\"", null, tenant)
                + "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n";
        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(90_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/files HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                            + "Content-Length: 10000000\r\n\r\n" + head)
                    .getBytes(StandardCharsets.UTF_8));
            out.write(fast);
            out.flush();
            Await.until("the part to be spooled", 20_000, () -> !uploads().isEmpty());
            AtomicBoolean stop = new AtomicBoolean();
            long started = System.nanoTime();
            // A byte every 250 ms, each well within the 3 s idle timeout, for up to a minute.
            CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                try {
                    while (!stop.get() && System.nanoTime() < until) {
                        out.write('a');
                        out.flush();
                        Thread.sleep(250);
                    }
                } catch (IOException | InterruptedException closed) {
                    // The server closed the connection: what the test waits for.
                }
            });
            InputStream in = socket.getInputStream();
            Reply reply = RawHttp.read(in);
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            stop.set(true);
            assertThat(reply.status()).as(reply.body()).isEqualTo(408);
            assertThat(reply.header("content-type")).startsWith("application/json");
            JsonObject body = new JsonObject(reply.body());
            assertThat(body.getString("error")).isNotBlank();
            assertThat(body.getString("message"))
                    .startsWith("the request body arrived too slowly")
                    .contains("at least 1000 bytes a second");
            // The window is 2 s and the average since the start stays above 1,000 bytes a second for 70 s.
            assertThat(tookMs).as("ms of trickling until the answer").isBetween(1_000L, 20_000L);
            assertThat(readToEnd(in))
                    .as("the connection is closed after the answer")
                    .isTrue();
            trickle.get(70, TimeUnit.SECONDS);
        }
        Await.until("the temporary upload file to go", 15_000, () -> uploads().isEmpty());
    }

    @Test
    @DisplayName("An upload sent slowly but steadily (4,000 bytes a second for 5 s, past two windows) is stored")
    void slowSteadyUploadIsKept() throws Exception {
        byte[] content = new byte[20_000];
        Arrays.fill(content, (byte) 'b');
        byte[] body = (MalformedCorpus.part("form-data; name=\"user_id\"", null, tenant)
                        + MalformedCorpus.part(
                                "form-data; name=\"file\"; filename=\"steady.txt\"",
                                "text/plain",
                                new String(content, StandardCharsets.US_ASCII))
                        + "--B--\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/files HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                            + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < body.length; i += 400) {
                out.write(body, i, Math.min(400, body.length - i));
                out.flush();
                Thread.sleep(100);
            }
            Reply reply = RawHttp.read(socket.getInputStream());
            assertThat(reply.status()).as(reply.body()).isEqualTo(201);
            assertThat(new JsonObject(reply.body()).getLong("size")).isEqualTo(20_000L);
        }
    }

    /**
     * Reads {@code in} to its end: true when the server closed the connection, false when it stayed
     * open until the socket's read timeout.
     */
    private static boolean readToEnd(InputStream in) {
        try {
            in.readAllBytes();
            return true;
        } catch (java.net.SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            // A close with unread input can reach the client as a reset: closed all the same.
            return true;
        }
    }

    static List<Path> uploads() {
        Path dir = node.config().dataDir().toAbsolutePath().resolve("uploads");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
