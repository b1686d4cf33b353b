package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class UniqueIndexTest {

    private final UniqueIndex.KeyOrder order = new UniqueIndex.KeyOrder();

    private int compare(KeyValue a, KeyValue b) {
        return Integer.signum(order.compare(a, b));
    }

    @Test
    @DisplayName("Keys are ordered by value, not by the length of their serialized form")
    void ordersByValue() {
        assertThat(compare(new KeyValue("b"), new KeyValue("aa"))).isEqualTo(1);
        assertThat(compare(new KeyValue("aa"), new KeyValue("b"))).isEqualTo(-1);
        assertThat(compare(new KeyValue(2), new KeyValue(10))).isEqualTo(-1);
        assertThat(compare(new KeyValue("t", 2), new KeyValue("t", 10))).isEqualTo(-1);
        assertThat(compare(new KeyValue("u", 1), new KeyValue("t", 10))).isEqualTo(1);
    }

    @Test
    @DisplayName("Equal BSON values are one key, as in MongoDB: 1, 1L and 1.0; equal documents")
    void equalValuesAreOneKey() {
        assertThat(compare(new KeyValue(1), new KeyValue(1.0))).isZero();
        assertThat(compare(new KeyValue(1L), new KeyValue(1))).isZero();
        assertThat(compare(new KeyValue(new Document("a", 1)), new KeyValue(new Document("a", 1))))
                .isZero();
        assertThat(compare(new KeyValue("x"), new KeyValue("x"))).isZero();
    }

    @Test
    @DisplayName("Values of different BSON types are ordered by type, as MongoDB orders them (numbers before strings)")
    void ordersTypes() {
        assertThat(compare(new KeyValue(5), new KeyValue("5"))).isEqualTo(-1);
        assertThat(compare(new KeyValue((Object) null), new KeyValue(0))).isEqualTo(-1);
    }
}
