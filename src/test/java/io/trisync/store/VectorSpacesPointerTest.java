package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class VectorSpacesPointerTest {

    @Test
    @DisplayName(
            "A model's part of a collection name: readable when the name is plain, else with a hash so two names never meet")
    void slugs() {
        assertThat(VectorSpacesPointer.slug("text-embedding-3-small@1536", 1536))
                .isEqualTo("text-embedding-3-small");
        assertThat(VectorSpacesPointer.slug("all-minilm-l6-v2-q", 384)).isEqualTo("all-minilm-l6-v2-q");
        String upper = VectorSpacesPointer.slug("BAAI/bge-small-en@384", 384);
        assertThat(upper).matches("baai-bge-small-en-[0-9a-f]{8}");
        assertThat(VectorSpacesPointer.slug("baai-bge-small-en@384", 384)).isEqualTo("baai-bge-small-en");
        assertThat(VectorSpacesPointer.slug("A_B@8", 8)).isNotEqualTo(VectorSpacesPointer.slug("a-b@8", 8));
        assertThat(VectorSpacesPointer.slug("@@@", 8)).matches("[0-9a-f]{8}");
        String longName = "x".repeat(100) + "@8";
        assertThat(VectorSpacesPointer.slug(longName, 8)).hasSize(31 + 1 + 8);
        assertThat(VectorSpacesPointer.slug(longName, 8))
                .isNotEqualTo(VectorSpacesPointer.slug("x".repeat(101) + "@8", 8));
    }
}
