package io.trisync.http;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.testsupport.MultipartBody;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Uploads pipelined on one HTTP/1.1 connection keep their own file names as sent ({@link
 * RawFileNames}). The node is clustered with authentication on, so the rate limit (kept in Hazelcast)
 * answers asynchronously before the body is read: by then Netty has passed the next request's head
 * and body through {@code RawFileNames} already, so names kept per connection were the next
 * request's.
 */
@Timeout(240)
class PipelinedUploadsIT {

    static final String SECRET = "pipelined-uploads-secret-0123456789-abc";

    static Node node;
    static String token;

    @BeforeAll
    static void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED", "true",
                                "AUTH_JWT_SECRET", SECRET,
                                "API_RATE_LIMIT_PER_MINUTE", "100000")),
                        true)
                .await();
        token = Tokens.of(node.vertx(), SECRET).issue(null, true, Duration.ofMinutes(10));
    }

    @AfterAll
    static void stop() {
        node.stop().await();
    }

    @Test
    @DisplayName("Two uploads pipelined on one connection, whose names differ only in characters the decoder"
            + " cleans (a,b.txt and a:b.txt: both a b.txt to it), are each stored under their own name")
    void pipelinedUploadsKeepTheirOwnNames() throws Exception {
        String tenant = TestStack.unique("piped");
        List<String> names = List.of("a,b.txt", "a:b.txt", "a=b.txt");
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String name : names) {
            MultipartBody body =
                    MultipartBody.of(Map.of("user_id", tenant), "file", name, "text/plain", utf8("piped " + name));
            all.writeBytes(RawHttp.request(
                    "POST",
                    "/api/files",
                    body.buffer().getBytes(),
                    "Host: h",
                    "Authorization: Bearer " + token,
                    "Content-Type: " + body.contentType()));
        }
        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(60_000);
            // All in one write: each request's head and body reach the server before the one before it is answered.
            socket.getOutputStream().write(all.toByteArray());
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            for (String name : names) {
                RawHttp.Reply reply = RawHttp.read(in);
                assertThat(reply.status()).as(reply.body()).isEqualTo(201);
                JsonObject file = new JsonObject(reply.body());
                assertThat(file.getString("name"))
                        .as("the answer to the upload of " + name)
                        .isEqualTo(name);
                assertThat(node.stores()
                                .metadata()
                                .get(file.getString("id"))
                                .await()
                                .name())
                        .isEqualTo(name);
            }
        }
    }
}
