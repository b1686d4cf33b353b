package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link ByteRange}: the single byte range of a {@code Range} header, resolved against a size (RFC 9110, 14.1). */
class ByteRangeTest {

    @Test
    @DisplayName("bytes=a-b, a- and -n resolve against the size; b past the end is the last byte")
    void resolvesTheThreeForms() {
        assertThat(ByteRange.of("bytes=0-0", 10)).isEqualTo(new ByteRange(0, 0));
        assertThat(ByteRange.of("bytes=2-5", 10)).isEqualTo(new ByteRange(2, 5));
        assertThat(ByteRange.of("bytes=2-500", 10)).isEqualTo(new ByteRange(2, 9));
        assertThat(ByteRange.of("bytes=7-", 10)).isEqualTo(new ByteRange(7, 9));
        assertThat(ByteRange.of("bytes=-3", 10)).isEqualTo(new ByteRange(7, 9));
        assertThat(ByteRange.of("bytes=-30", 10)).isEqualTo(new ByteRange(0, 9));
        assertThat(ByteRange.of("Bytes = 1-2 ", 10)).isEqualTo(new ByteRange(1, 2));
        assertThat(ByteRange.of("bytes=3-99999999999999999999999", 10)).isEqualTo(new ByteRange(3, 9));
        assertThat(ByteRange.of("bytes=2-5", 10).contentRange(10)).isEqualTo("bytes 2-5/10");
        assertThat(ByteRange.of("bytes=2-5", 10).length()).isEqualTo(4);
    }

    @Test
    @DisplayName("No header, another unit, several ranges or a malformed set: the whole content (null)")
    void ignoresWhatItDoesNotServe() {
        assertThat(ByteRange.of(null, 10)).isNull();
        assertThat(ByteRange.of("items=0-1", 10)).isNull();
        assertThat(ByteRange.of("bytes=0-1,4-5", 10)).isNull();
        assertThat(ByteRange.of("bytes=5-2", 10)).isNull();
        assertThat(ByteRange.of("bytes=-", 10)).isNull();
        assertThat(ByteRange.of("bytes=a-b", 10)).isNull();
        assertThat(ByteRange.of("bytes 0-1", 10)).isNull();
        assertThat(ByteRange.of("bytes=1.5-2", 10)).isNull();
    }

    @Test
    @DisplayName("A single range starting at or past the end, or bytes=-0, is unsatisfiable and names the size")
    void unsatisfiable() {
        for (String header : new String[] {"bytes=10-", "bytes=10-20", "bytes=-0", "bytes=99999999999999999999-"}) {
            assertThatThrownBy(() -> ByteRange.of(header, 10))
                    .as(header)
                    .isInstanceOfSatisfying(Failure.RangeNotSatisfiable.class, f -> assertThat(f.size())
                            .isEqualTo(10))
                    .hasMessageContaining("10 bytes long");
        }
    }
}
