package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RepeatedFieldTest {

    private static String repeated(String json) {
        return Contract.repeatedField(Buffer.buffer(json));
    }

    @Test
    @DisplayName("A field named twice in one object is found by its path; the same name in two objects is not repeated")
    void repeatedFieldByPath() {
        assertThat(repeated("{\"user_id\":\"a\",\"query\":\"q\",\"user_id\":\"b\"}"))
                .isEqualTo("user_id");
        assertThat(repeated("{\"labels\":{\"a\":\"1\",\"a\":\"2\"}}")).isEqualTo("labels.a");
        assertThat(repeated("{\"x\":[{\"k\":1},{\"k\":1,\"k\":2}]}")).isEqualTo("x.1.k");
        assertThat(repeated("{\"a/b\":1,\"a/b\":2}")).isEqualTo("a/b");
        assertThat(repeated("{\"labels\":{\"a\":\"1\"},\"a\":2}")).isNull();
        assertThat(repeated("[{\"a\":1},{\"a\":1}]")).isNull();
        assertThat(repeated("{/* c */\"a\":1}")).isNull();
        assertThat(repeated("\ufeff{\"a\":1,\"a\":1}")).isEqualTo("a");
        assertThat(repeated("{\"a\":1}")).isNull();
    }
}
