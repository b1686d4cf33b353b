package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Text the local model makes no token of (no-break spaces, zero-width, control or combining
 * characters alone): an upload, a new version or a search of it was answered 500, the library
 * refusing the chunk or the query with an IllegalArgumentException.
 */
@Timeout(180)
class UnreadableTextIT {

    private static Node node;
    private static Http http;

    @BeforeAll
    static void start() {
        node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        http = new Http(node.vertx(), node.httpPort());
    }

    @AfterAll
    static void stop() {
        http.close();
        node.stop().await();
    }

    @Test
    @DisplayName("A text file of no-break spaces, zero-width or control characters alone is stored (201, no chunks),"
            + " and one with a run of them between words keeps a chunk for each readable part, its points as many")
    void unreadableChunksAreLeftOut() {
        String tenant = TestStack.unique("u");
        for (String text : List.of("\u00a0\u00a0", "\u200b", "\u0000\u0001", "\ufeff\u00ad \u0301", "\ufffd")) {
            HttpResponse<Buffer> r = http.upload(tenant, "z.txt", "text/plain", utf8(text), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            assertThat(r.bodyAsJsonObject().getInteger("chunks")).isZero();
            assertThat(r.bodyAsJsonObject().getString("indexing")).isEqualTo("indexed");
        }
        // 400 zero-width "words" between two words: with 150-word chunks overlapping by 30, two chunks
        // of zero-width spaces alone, between the first word's and the last word's.
        String mixed = "hello " + "\u200b ".repeat(400) + "world";
        HttpResponse<Buffer> r = http.upload(tenant, "mixed.txt", "text/plain", utf8(mixed), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        JsonObject file = r.bodyAsJsonObject();
        assertThat(file.getInteger("chunks")).isEqualTo(2);
        assertThat(node.stores().vectors().count(tenant, file.getString("id")).await())
                .isEqualTo(2);
        // A new version of such content too.
        HttpResponse<Buffer> replaced = http.replace(
                "/api/files/" + file.getString("id") + "/content?user_id=" + tenant,
                "mixed.txt",
                "text/plain",
                utf8("\u00a0 ".repeat(300)),
                null);
        assertThat(replaced.statusCode()).as(replaced.bodyAsString()).isEqualTo(200);
        assertThat(replaced.bodyAsJsonObject().getInteger("chunks")).isZero();
        // What is readable is still found.
        HttpResponse<Buffer> found = http.post(
                "/api/search",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("query", "\u00a0hello\u200b")
                        .encode()));
        assertThat(found.statusCode()).as(found.bodyAsString()).isEqualTo(200);
    }

    @Test
    @DisplayName("A search query with nothing to read is 400 naming query, not 500")
    void unreadableQueryIsRefused() {
        String tenant = TestStack.unique("u");
        // As a client sends them, JSON-escaped (a lone surrogate cannot be encoded otherwise).
        for (String query :
                List.of("\\u200b", "\\ud800", "\\u0000", "\\u00a0\\u00a0", "\\u0301", "\\ufffd", "\\ufeff\\u0085")) {
            HttpResponse<Buffer> r = http.post(
                    "/api/search",
                    "application/json",
                    Buffer.buffer("{\"user_id\":\"" + tenant + "\",\"query\":\"" + query + "\"}"));
            assertThat(r.statusCode()).as(query + " " + r.bodyAsString()).isEqualTo(400);
            assertThat(r.bodyAsJsonObject().getString("message")).startsWith("query ");
        }
    }
}
