package io.trisync.testsupport;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

/**
 * A {@code multipart/form-data} body built whole, as curl and browsers send one: with a {@code
 * Content-Length}, unlike Vert.x's web client, which sends every multipart form chunked.
 */
public record MultipartBody(String contentType, Buffer buffer) {

    /** Form {@code attributes}, then one file part {@code field} holding {@code bytes}. */
    public static MultipartBody of(
            Map<String, String> attributes, String field, String fileName, String fileType, byte[] bytes) {
        String boundary = "----trisync" + UUID.randomUUID().toString().replace("-", "");
        StringBuilder head = new StringBuilder();
        attributes.forEach((name, value) -> head.append("--")
                .append(boundary)
                .append("\r\nContent-Disposition: form-data; name=\"")
                .append(name)
                .append("\"\r\n\r\n")
                .append(value)
                .append("\r\n"));
        head.append("--")
                .append(boundary)
                .append("\r\nContent-Disposition: form-data; name=\"")
                .append(field)
                .append("\"; filename=\"")
                .append(fileName)
                .append("\"\r\nContent-Type: ")
                .append(fileType)
                .append("\r\n\r\n");
        Buffer body = Buffer.buffer(head.toString().getBytes(StandardCharsets.UTF_8))
                .appendBytes(bytes)
                .appendString("\r\n--" + boundary + "--\r\n");
        return new MultipartBody("multipart/form-data; boundary=" + boundary, body);
    }
}
