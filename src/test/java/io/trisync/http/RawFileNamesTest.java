package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RawFileNamesTest {

    private static final String BOUNDARY = "b0undary";

    /** Every character Netty's decoder cleans out of a file name, a quoted ';' and non-ASCII among them. */
    private static final String NAME = " Report, final: v1; a=b été\t.txt ";

    private static byte[] body(String fileName, String extra) {
        return ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\ntenant-a\r\n--"
                        + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName
                        + "\"" + extra + "\r\nContent-Type: text/plain\r\n\r\nline one\r\n--" + BOUNDARY
                        + " in the text\r\n--" + BOUNDARY + "--\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> scan(List<byte[]> chunks) {
        RawFileNames.Scanner scanner = new RawFileNames.Scanner(BOUNDARY);
        for (byte[] chunk : chunks) {
            scanner.feed(Unpooled.wrappedBuffer(chunk));
        }
        return scanner.names;
    }

    @Test
    @DisplayName("The file name is read as sent wherever the body is cut in two, and cut into single bytes")
    void readsTheNameAsSentWhereverCut() {
        byte[] body = body(NAME, "");
        for (int at = 1; at < body.length; at++) {
            assertThat(scan(List.of(Arrays.copyOfRange(body, 0, at), Arrays.copyOfRange(body, at, body.length))))
                    .as("cut at %d of %d", at, body.length)
                    .containsExactly(NAME);
        }
        List<byte[]> bytes = new ArrayList<>();
        for (byte b : body) {
            bytes.add(new byte[] {b});
        }
        assertThat(scan(bytes)).containsExactly(NAME);
    }

    @Test
    @DisplayName("Netty's decoder gives the name cleaned (so the handler is needed), as RawFileNames.cleaned says;"
            + " pick takes the name sent only where the decoder's is its cleaned form")
    void decoderCleansTheName() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/files");
        request.headers().set(HttpHeaderNames.CONTENT_TYPE, "multipart/form-data; boundary=" + BOUNDARY);
        HttpPostRequestDecoder decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), request);
        try {
            decoder.offer(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body(NAME, ""))));
            String decoded = null;
            for (InterfaceHttpData data : decoder.getBodyHttpDatas()) {
                if (data instanceof FileUpload file) {
                    decoded = file.getFilename();
                }
            }
            assertThat(decoded).isNotEqualTo(NAME).isEqualTo(RawFileNames.cleaned(NAME));
            assertThat(RawFileNames.pick(List.of(NAME), 0, decoded)).isEqualTo(NAME);
            assertThat(RawFileNames.pick(List.of("other.txt"), 0, decoded)).isEqualTo(decoded);
            assertThat(RawFileNames.pick(List.of(), 0, decoded)).isEqualTo(decoded);
        } finally {
            decoder.destroy();
        }
    }

    @Test
    @DisplayName("A part named by filename* is left to the decoder; the boundary is read from the content type")
    void extendedNamesAndBoundaries() {
        assertThat(scan(List.of(body("a.txt", "; filename*=UTF-8''a%2Cb.txt")))).containsExactly((String) null);
        assertThat(RawFileNames.boundary("multipart/form-data; boundary=\"b0undary\""))
                .isEqualTo(BOUNDARY);
        assertThat(RawFileNames.boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=b0undary"))
                .isEqualTo(BOUNDARY);
        assertThat(RawFileNames.boundary("application/json")).isNull();
    }

    @Test
    @DisplayName("A file part's charset is read from its own Content-Type, before or after its disposition; none"
            + " when it declares none")
    void readsThePartsOwnCharset() {
        String withType = "--" + BOUNDARY + "\r\nContent-Type: text/plain; charset=\"ISO-8859-1\"\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nx\r\n--" + BOUNDARY
                + "--\r\n";
        RawFileNames.Scanner scanner = new RawFileNames.Scanner(BOUNDARY);
        scanner.feed(Unpooled.wrappedBuffer(withType.getBytes(StandardCharsets.UTF_8)));
        assertThat(scanner.names).containsExactly("a.txt");
        assertThat(scanner.charsets).containsExactly("ISO-8859-1");
        RawFileNames.Scanner none = new RawFileNames.Scanner(BOUNDARY);
        none.feed(Unpooled.wrappedBuffer(body(NAME, "")));
        assertThat(none.charsets).containsExactly((String) null);
    }

    @Test
    @DisplayName("A part after the file part declaring a charset a multipart body cannot be read in is refused"
            + " naming its field, wherever the body is cut; a file's CRs and near-delimiters do not end it early")
    void refusesACharsetAfterTheFilePart() {
        String after = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nline\rone\r\n\r\n--" + BOUNDARY.substring(0, 4) + "\r\n--"
                + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n"
                + "Content-Type: text/plain; charset=utf-16\r\n\r\ntenant-a\r\n--" + BOUNDARY + "--\r\n";
        byte[] body = after.getBytes(StandardCharsets.UTF_8);
        for (int at = 1; at < body.length; at++) {
            RawFileNames.Scanner scanner = new RawFileNames.Scanner(BOUNDARY);
            scanner.feed(Unpooled.wrappedBuffer(Arrays.copyOfRange(body, 0, at)));
            scanner.feed(Unpooled.wrappedBuffer(Arrays.copyOfRange(body, at, body.length)));
            assertThat(scanner.names).as("cut at %d", at).containsExactly("a.txt");
            assertThat(scanner.refused)
                    .as("cut at %d", at)
                    .startsWith("user_id: the part's charset=utf-16 is not supported");
        }
        RawFileNames.Scanner unknown = new RawFileNames.Scanner(BOUNDARY);
        unknown.feed(Unpooled.wrappedBuffer(after.replace("utf-16", "bogus").getBytes(StandardCharsets.UTF_8)));
        assertThat(unknown.refused).startsWith("user_id: the part's charset=bogus is not a charset this server knows");
    }
}
