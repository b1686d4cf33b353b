package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MultipartCharsetsTest {

    @Test
    @DisplayName("Charsets that write ASCII as ASCII frame a multipart body; UTF-16, UTF-32, EBCDIC and unknown"
            + " ones are refused naming the charset and what is taken")
    void problem() {
        for (String taken : List.of("utf-8", "UTF-8", "us-ascii", "iso-8859-1", "windows-1252", "latin1")) {
            assertThat(MultipartCharsets.problem(taken)).as(taken).isNull();
        }
        assertThat(MultipartCharsets.problem(null)).isNull();
        for (String refused : List.of("utf-16", "UTF-16LE", "utf-16be", "utf-32", "IBM037")) {
            assertThat(MultipartCharsets.problem(refused))
                    .as(refused)
                    .startsWith("charset=" + refused + " is not supported in a multipart body")
                    .contains("UTF-8");
        }
        assertThat(MultipartCharsets.problem("bogus"))
                .startsWith("charset=bogus is not a charset this server knows")
                .contains("UTF-8");
        assertThat(MultipartCharsets.problem("x y")).startsWith("charset=x y is not a charset this server knows");
        assertThat(MultipartCharsets.problem("b".repeat(100))).contains("b".repeat(40) + "… is not");
    }
}
