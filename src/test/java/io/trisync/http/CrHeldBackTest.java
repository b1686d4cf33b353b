package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CrHeldBackTest {

    private static final String BOUNDARY = "b0undary";

    /** A file whose bytes hold CRs, CRLFs and a dash line, and end in CR: every trap near a delimiter. */
    private static final String CONTENT = "line one\r\nline two\r\n\r\n-- not a delimiter\r\n--b0und\r";

    /** A plain file: the decoder alone gets a file that ends in CR right, not this one. */
    private static final String PLAIN = "hello world";

    private static final String USER = "tenant-a";

    @Test
    @DisplayName("Netty's multipart decoder gets every part as sent wherever the body is cut in two, and cut"
            + " into single bytes")
    void decoderGetsPartsAsSentWhereverCut() {
        for (String content : List.of(CONTENT, PLAIN)) {
            byte[] body = body(content);
            for (int at = 1; at < body.length; at++) {
                assertThat(decode(split(body, at), true))
                        .as("cut at %d of %d", at, body.length)
                        .isEqualTo(sent(content));
            }
            List<byte[]> bytes = new ArrayList<>();
            for (byte b : body) {
                bytes.add(new byte[] {b});
            }
            assertThat(decode(bytes, true)).isEqualTo(sent(content));
        }
    }

    @Test
    @DisplayName("Without it, a cut just after the CR before a delimiter gives that part the CR"
            + " (netty/netty#17383; once this fails, the decoder is fixed and CrHeldBack can go)")
    void decoderAloneKeepsTheCr() {
        byte[] body = body(PLAIN);
        int beforeFile = indexOf(body, "\r\n--" + BOUNDARY + "\r\n");
        int beforeClosing = indexOf(body, "\r\n--" + BOUNDARY + "--");
        Map<String, String> cutBeforeFile = decode(split(body, beforeFile + 1), false);
        Map<String, String> cutBeforeClosing = decode(split(body, beforeClosing + 1), false);
        assertThat(cutBeforeFile.get("user_id")).isEqualTo(USER + "\r");
        assertThat(cutBeforeClosing.get("file")).isEqualTo(PLAIN + "\r");
    }

    @Test
    @DisplayName("Chunks keep their bytes and order; none but the last ends in CR; a chunk of a CR alone is held")
    void chunksKeepTheirBytes() {
        EmbeddedChannel channel = new EmbeddedChannel(new CrHeldBack());
        channel.writeInbound(
                content("ab\r"), content("\r"), content("\r\ncd"), content("\r"), LastHttpContent.EMPTY_LAST_CONTENT);
        List<HttpContent> out = new ArrayList<>();
        for (HttpContent c = channel.readInbound(); c != null; c = channel.readInbound()) {
            out.add(c);
        }
        assertThat(out).hasSize(4);
        assertThat(out.stream().map(CrHeldBackTest::text).toList()).containsExactly("ab", "\r", "\r\r\ncd", "\r");
        assertThat(out.get(3)).isInstanceOf(LastHttpContent.class);
        assertThat(out.subList(0, 3)).noneMatch(c -> c instanceof LastHttpContent);
        out.forEach(HttpContent::release);
        // Nothing held: the last chunk passes as it came.
        channel.writeInbound(content("x"), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(text(channel.readInbound())).isEqualTo("x");
        assertThat((Object) channel.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(channel.finish()).isFalse();
    }

    private static Map<String, String> sent(String content) {
        return Map.of("user_id", USER, "file", content);
    }

    private static byte[] body(String content) {
        return ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + USER + "\r\n--"
                        + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                        + "Content-Type: text/plain\r\n\r\n" + content + "\r\n--" + BOUNDARY + "--\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    private static List<byte[]> split(byte[] body, int at) {
        return List.of(java.util.Arrays.copyOfRange(body, 0, at), java.util.Arrays.copyOfRange(body, at, body.length));
    }

    /** The parts the decoder makes of {@code chunks} (the last one ends the body), through the handler or not. */
    private static Map<String, String> decode(List<byte[]> chunks, boolean heldBack) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/files");
        request.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "multipart/form-data; boundary=" + BOUNDARY)
                .set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        HttpPostRequestDecoder decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), request);
        try {
            List<HttpContent> in = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
                ByteBuf bytes = Unpooled.wrappedBuffer(chunks.get(i));
                in.add(i == chunks.size() - 1 ? new DefaultLastHttpContent(bytes) : new DefaultHttpContent(bytes));
            }
            List<HttpContent> offered = new ArrayList<>();
            if (heldBack) {
                EmbeddedChannel channel = new EmbeddedChannel(new CrHeldBack());
                in.forEach(channel::writeInbound);
                for (HttpContent c = channel.readInbound(); c != null; c = channel.readInbound()) {
                    offered.add(c);
                }
                channel.finish();
            } else {
                offered.addAll(in);
            }
            for (HttpContent c : offered) {
                decoder.offer(c);
                c.release();
            }
            Map<String, String> parts = new LinkedHashMap<>();
            for (InterfaceHttpData data : decoder.getBodyHttpDatas()) {
                if (data instanceof FileUpload file) {
                    parts.put(file.getName(), new String(file.get(), StandardCharsets.ISO_8859_1));
                } else if (data instanceof Attribute attribute) {
                    parts.put(attribute.getName(), attribute.getValue());
                }
            }
            return parts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            decoder.destroy();
        }
    }

    private static HttpContent content(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private static String text(HttpContent content) {
        return new String(ByteBufUtil.getBytes(content.content()), StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] in, String what) {
        String all = new String(in, StandardCharsets.ISO_8859_1);
        int at = all.indexOf(what);
        if (at < 0) {
            throw new IllegalStateException("not found: " + what);
        }
        return at;
    }
}
