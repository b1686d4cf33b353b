package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class InChunksTest {

    @Test
    @DisplayName("Values split into chunks of at most 256, in order, none lost; none for no values")
    void splits() {
        List<Integer> values = IntStream.range(0, 600).boxed().toList();
        List<List<Integer>> chunks = InChunks.of(values);
        assertThat(chunks).extracting(List::size).containsExactly(256, 256, 88);
        assertThat(chunks.stream().flatMap(List::stream).toList()).isEqualTo(values);
        assertThat(InChunks.of(List.of())).isEmpty();
        assertThat(InChunks.of(List.of(1))).containsExactly(List.of(1));
    }
}
