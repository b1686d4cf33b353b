package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.RawHttp;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A multipart upload sent chunked (as Vert.x's web client sends every form) is stored as sent however
 * its chunks fall. Netty's multipart decoder (netty/netty#17383) kept the CR of the CRLF before a
 * delimiter in the part when an HTTP chunk ended just after it: the file was stored, and answered
 * 201, with one byte more than was sent; then a part spooled to a file was refused 503 in that case.
 */
@Timeout(120)
class MultipartChunksIT {

    private static final String BOUNDARY = "trisyncBoundary7MA4YWxk";

    @Test
    @DisplayName("A chunked multipart upload is stored byte for byte wherever its chunks end, also just after the"
            + " CR before a delimiter")
    void storedAsSentWhereverChunksEnd() {
        Node node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        try {
            String tenant = TestStack.unique("chunks");
            // Held in memory, and spooled to a file (a part beyond 64 KiB).
            sendSplit(node, tenant, Fixtures.utf8(Fixtures.prose(60) + " chunked"));
            sendSplit(node, tenant, Fixtures.utf8(Fixtures.prose(10_000)));
        } finally {
            node.stop().await();
        }
    }

    /** Sends {@code content} split at several places: each time stored, and answered, as sent. */
    private static void sendSplit(Node node, String tenant, byte[] content) {
        {
            byte[] body = body(tenant, content);
            String closing = "\r\n--" + BOUNDARY + "--";
            int cr = indexOf(body, closing.getBytes(StandardCharsets.ISO_8859_1));
            int userIdEnd = indexOf(
                    body,
                    ("\r\n--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"")
                            .getBytes(StandardCharsets.ISO_8859_1));
            // Chunks ending just after the CR before each delimiter, and at a few other places.
            List<int[]> splits = List.of(
                    new int[] {cr + 1},
                    new int[] {userIdEnd + 1, cr + 1},
                    new int[] {cr},
                    new int[] {cr + 2},
                    new int[] {body.length / 2});
            for (int[] at : splits) {
                RawHttp.Reply reply = RawHttp.exchange(node.httpPort(), chunked(body, at), 30_000);
                assertThat(reply.status())
                        .as("split at %s: %s", java.util.Arrays.toString(at), reply.body())
                        .isEqualTo(201);
                JsonObject file = new JsonObject(reply.body());
                assertThat(file.getLong("size"))
                        .as("split at %s", java.util.Arrays.toString(at))
                        .isEqualTo(content.length);
                assertThat(file.getString("sha256"))
                        .as("split at %s", java.util.Arrays.toString(at))
                        .isEqualTo(Fixtures.sha256(content));
                String id = file.getString("id");
                assertThat(Fixtures.sha256(node.stores()
                                .blobs()
                                .getBytes(io.trisync.store.StoreKeys.blobKey(
                                        tenant,
                                        node.stores().metadata().get(id).await().partition(),
                                        id))
                                .await()
                                .getBytes()))
                        .as("the stored bytes, split at %s", java.util.Arrays.toString(at))
                        .isEqualTo(Fixtures.sha256(content));
            }
        }
    }

    private static byte[] body(String tenant, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                        + "\r\n--" + BOUNDARY
                        + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.txt\"\r\n"
                        + "Content-Type: text/plain\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.writeBytes(content);
        out.writeBytes(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** The request with {@code body} sent in chunks that end at the offsets {@code at} (ascending). */
    private static byte[] chunked(byte[] body, int[] at) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("POST /api/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary="
                        + BOUNDARY + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        List<Integer> ends = new ArrayList<>();
        for (int a : at) {
            ends.add(a);
        }
        ends.add(body.length);
        int from = 0;
        for (int end : ends) {
            out.writeBytes((Integer.toHexString(end - from) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, from, end - from);
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            from = end;
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    private static int indexOf(byte[] in, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= in.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (in[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }
}
