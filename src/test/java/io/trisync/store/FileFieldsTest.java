package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FileFieldsTest {

    @Test
    @DisplayName("Media types with parameters pass; control characters, non-ASCII, markup and paths do not")
    void contentTypes() {
        assertThat(FileFields.mediaType("Text/Plain ; charset=ISO-8859-1")).isEqualTo("text/plain");
        assertThat(FileFields.mediaType("application/pdf")).isEqualTo("application/pdf");
        assertThat(FileFields.mediaType(null)).isEmpty();
        assertThat(FileFields.isContentType("text/plain")).isTrue();
        assertThat(FileFields.isContentType("text/plain; charset=utf-8")).isTrue();
        assertThat(FileFields.isContentType("application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
                .isTrue();
        assertThat(FileFields.isContentType("multipart/mixed;boundary=\"a b\"")).isTrue();
        for (String bad : new String[] {
            "text/plain\u007f",
            "text/pl\u0001ain",
            "text/plainé",
            "application/x-evil<script>",
            "../../etc",
            "text",
            "text/plain; charset",
            "text/plain\r\nX-Injected: 1",
            "",
            "a/" + "b".repeat(300)
        }) {
            assertThat(FileFields.isContentType(bad)).as(bad).isFalse();
        }
        assertThatThrownBy(() -> FileFields.contentType("the file's content type", "a<b>/c"))
                .isInstanceOf(Failure.BadRequest.class)
                .hasMessageContaining("content type");
    }

    @Test
    @DisplayName("A name is text without control characters or a path; the error names the field")
    void names() {
        assertThat(FileFields.name("name", "Quarterly report (final) é.pdf"))
                .isEqualTo("Quarterly report (final) é.pdf");
        for (String bad : new String[] {
            "a\u0000b", "a\nb", "a\tb", "a\u0085b", "invoice\u202Efdp.exe", "../x", "a\\b", ".", "..", " ", ""
        }) {
            assertThatThrownBy(() -> FileFields.name("name", bad))
                    .as(bad)
                    .isInstanceOf(Failure.BadRequest.class)
                    .hasMessageStartingWith("name ");
        }
        assertThatThrownBy(() -> FileFields.name("name", "n".repeat(FileFields.MAX_NAME + 1)))
                .isInstanceOf(Failure.BadRequest.class);
    }

    @Test
    @DisplayName("Label keys are any text but blank, control characters or an operator; values may hold line breaks")
    void labelKeys() {
        for (String good : new String[] {"team", "app.kubernetes.io/name", "cost center", "größe", "作者", "_id"}) {
            assertThat(FileFields.isLabelKey(good)).as(good).isTrue();
        }
        assertThat(FileFields.isLabelValue("line one\nline two\twith a tab")).isTrue();
        assertThat(FileFields.isLabelValue("nul\u0000")).isFalse();
        for (String bad : new String[] {"$set", "\u0000", "", " ", "a\nb"}) {
            assertThat(FileFields.isLabelKey(bad)).as(bad).isFalse();
        }
    }
}
