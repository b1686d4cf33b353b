package io.trisync.http;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/** How an answer with a body in one piece is ended. */
final class Answers {

    private Answers() {}

    /**
     * Ends {@code response} with {@code body}, its length said: Vert.x says it for a GET only, and a
     * HEAD is the GET's headers without the body (RFC 9110, 9.3.2), its {@code Content-Length} included.
     */
    static Future<Void> end(HttpServerResponse response, String body) {
        return end(response, Buffer.buffer(body));
    }

    /** {@link #end(HttpServerResponse, String)} of bytes. */
    static Future<Void> end(HttpServerResponse response, Buffer body) {
        return response.putHeader("Content-Length", String.valueOf(body.length()))
                .end(body);
    }
}
