package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @Test
    @DisplayName(
            "An index map written in the old order is rebuilt in value order, in chunks, once; a leftover of a cut-off rebuild is discarded")
    void rebuildsOldOrderMaps(@TempDir Path dir) {
        String file = dir.resolve("index.mv").toString();
        List<KeyValue> keys = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            keys.add(new KeyValue("name-" + (i * 37 % 1000)));
        }
        MVStore old = new MVStore.Builder().fileName(file).open();
        MVMap<KeyValue, Object> stock = old.openMap("db.files._index_name_1");
        keys.forEach(k -> stock.put(k, "position-of-" + k.get(0)));
        // What a rebuild cut off by a crash leaves: a partial copy under the temporary name.
        old.<KeyValue, Object>openMap("db.files._index_name_1.reordering").put(keys.get(0), "stale");
        old.close();

        MVStore store = new MVStore.Builder().fileName(file).open();
        MVMap<KeyValue, Object> map = UniqueIndex.ordered(store, "db.files._index_name_1", 128);
        assertThat(map.sizeAsLong()).isEqualTo(1_000);
        for (KeyValue k : keys) {
            assertThat(map.get(k)).isEqualTo("position-of-" + k.get(0));
        }
        List<String> inOrder = new ArrayList<>();
        map.keyIterator(null).forEachRemaining(k -> inOrder.add((String) k.get(0)));
        assertThat(inOrder).isSorted().hasSize(1_000);
        assertThat(store.hasMap("db.files._index_name_1.reordering")).isFalse();
        store.close();

        MVStore again = new MVStore.Builder().fileName(file).open();
        MVMap<KeyValue, Object> reopened = UniqueIndex.ordered(again, "db.files._index_name_1", 128);
        assertThat(reopened.get(keys.get(500)))
                .isEqualTo("position-of-" + keys.get(500).get(0));
        assertThat(again.<String, Boolean>openMap(UniqueIndex.ORDERED).get("db.files._index_name_1"))
                .isTrue();
        again.close();
    }
}
