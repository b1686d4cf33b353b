package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.config.TrisyncConfig;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code API_RATE_LIMIT_PER_MINUTE} holds across clustered nodes: one budget per token, wherever it calls. */
@Timeout(180)
class ClusterRateLimitIT {

    static final String SECRET = "cluster-rate-limit-secret-0123456789-abc";

    @Test
    @DisplayName("A token calling two nodes by turns gets the one budget, then 429 with Retry-After from either")
    void oneBudgetAcrossNodes() {
        Map<String, String> auth =
                Map.of("AUTH_ENABLED", "true", "AUTH_JWT_SECRET", SECRET, "API_RATE_LIMIT_PER_MINUTE", "10");
        TrisyncConfig first = TestStack.config(merge(auth, Map.of("NODE_ID", "limit-a")));
        Node a = Node.start(first, true).await();
        Node b = null;
        try {
            TrisyncConfig stores = a.config();
            b = Node.start(TestStack.joining(stores, merge(auth, Map.of("NODE_ID", "limit-b"))), true)
                    .await();
            String tenant = TestStack.unique("limited");
            String token = Tokens.of(a.vertx(), SECRET).issue(tenant, false, Duration.ofMinutes(5));
            WebClient client = WebClient.create(a.vertx());
            List<Integer> statuses = new ArrayList<>();
            HttpResponse<Buffer> last = null;
            for (int i = 0; i < 16; i++) {
                int port = i % 2 == 0 ? a.httpPort() : b.httpPort();
                last = client.get(port, "127.0.0.1", "/api/files?user_id=" + tenant)
                        .putHeader("Authorization", "Bearer " + token)
                        .send()
                        .await();
                statuses.add(last.statusCode());
            }
            assertThat(statuses.subList(0, 10))
                    .as("the budget, spent on both nodes")
                    .containsOnly(200);
            assertThat(statuses.subList(10, 16)).as("past it, on either node").containsOnly(429);
            assertThat(Long.parseLong(last.getHeader("Retry-After"))).isBetween(1L, 60L);
            assertThat(last.bodyAsJsonObject().getString("error")).isEqualTo("too_many_requests");
            client.close();
        } finally {
            if (b != null) {
                b.stop().await();
            }
            a.stop().await();
        }
    }

    private static Map<String, String> merge(Map<String, String> x, Map<String, String> y) {
        Map<String, String> out = new HashMap<>(x);
        out.putAll(y);
        return out;
    }
}
