package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(60)
class MongoIssueStoreIT {

    @Test
    @DisplayName(
            "A scan's restated issue (its details changed) is rewritten only while open: one a repair closed meanwhile stays closed")
    void restatedOnlyWhileOpen(Vertx vertx) {
        MongoClient mongo = MongoClient.create(
                vertx, MongoMetadataStore.clientConfig(TestStack.config().mongo()));
        try {
            MongoIssueStore issues = new MongoIssueStore(mongo);
            String tenant = TestStack.unique("issues");
            IssueRecord open = issue(tenant, "f-open", new JsonObject().put("etag", "a"));
            IssueRecord closed = issue(tenant, "f-closed", new JsonObject().put("etag", "a"));
            issues.apply(List.of(open, closed), List.of()).await();
            // A repair closes one between the scan's read of the open issues and its write.
            issues.apply(List.of(), List.of(closed.id())).await();

            issues.apply(
                            List.of(),
                            List.of(
                                    issue(tenant, "f-open", new JsonObject().put("etag", "b")),
                                    issue(tenant, "f-closed", new JsonObject().put("etag", "b"))),
                            List.of())
                    .await();

            List<IssueRecord> now = issues.open(tenant, 0).await();
            assertThat(now).extracting(IssueRecord::fileId).containsExactly("f-open");
            assertThat(now.get(0).details()).isEqualTo(new JsonObject().put("etag", "b"));
        } finally {
            mongo.close().await();
        }
    }

    private static IssueRecord issue(String tenant, String fileId, JsonObject details) {
        return new IssueRecord(
                tenant, 0, fileId, fileId + ".txt", "CHECKSUM_MISMATCH", details, "2026-12-07T00:00:00Z", "op");
    }
}
