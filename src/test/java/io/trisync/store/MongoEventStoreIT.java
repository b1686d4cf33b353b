package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(120)
class MongoEventStoreIT {

    @Test
    @DisplayName(
            "Events get per-tenant gapless seqs, read back in both orders, and the log keeps the newest N; the last seq is the counter's")
    void seqReplayAndRetention(Vertx vertx) {
        MongoClient client = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(TestStack.config().mongo()));
        MongoEventStore store = new MongoEventStore(client, 100);
        try {
            store.init().await();
            String a = TestStack.unique("t");
            String b = TestStack.unique("t");
            for (int i = 1; i <= 300; i++) {
                Event stored = store.append(a, draft("file.uploaded", new JsonObject().put("i", i)))
                        .await();
                assertThat(stored.seq()).isEqualTo(i);
                assertThat(stored.data().getInteger("i")).isEqualTo(i);
                if (i % 3 == 0) {
                    assertThat(store.append(b, draft("x", null)).await().seq()).isEqualTo(i / 3);
                }
            }
            assertThat(store.oldestSeq(a).await()).isEqualTo(201);
            assertThat(store.lastSeq(a).await()).isEqualTo(300);
            assertThat(store.lastSeq(b).await()).isEqualTo(100);
            assertThat(store.lastSeq(TestStack.unique("none")).await()).isZero();
            List<Event> recent = store.recent(a, 5).await();
            assertThat(recent).extracting(Event::seq).containsExactly(300L, 299L, 298L, 297L, 296L);
            List<Event> since = store.since(a, 290, 100).await();
            assertThat(since)
                    .extracting(Event::seq)
                    .containsExactly(291L, 292L, 293L, 294L, 295L, 296L, 297L, 298L, 299L, 300L);
            assertThat(since).allMatch(e -> e.tenantId().equals(a) && e.data().getInteger("i") > 290);
            assertThat(store.recent(b, 1000).await()).hasSize(100);
        } finally {
            client.close().await();
        }
    }

    private static Event draft(String type, JsonObject data) {
        return Event.draft(type, null, null, null, Instant.now().toString(), data);
    }
}
