package io.trisync.bench;

import io.trisync.Node;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.IngestOperation;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Diagnostic, not a benchmark of record: where an upload's time goes. Uploads 400 files through the
 * store pipeline (precomputed vectors) at concurrency 1 and 16 and prints, per recorded step, the mean
 * milliseconds since the operation began. Run: {@code mvn -Pbench test -Dtest=StepTimesProbe}.
 */
@Tag("bench")
class StepTimesProbe {
    @Test
    void probe() throws Exception {
        Map<IngestOperation.Step, LongAdder> sums = new ConcurrentHashMap<>();
        Map<IngestOperation.Step, LongAdder> counts = new ConcurrentHashMap<>();
        IngestHooks hooks = (op, step) -> {
            long ms = Duration.between(op.createdAt(), Instant.now()).toMillis();
            sums.computeIfAbsent(step, s -> new LongAdder()).add(ms);
            counts.computeIfAbsent(step, s -> new LongAdder()).increment();
            return Future.succeededFuture();
        };
        for (int c : new int[] {1, 16}) {
            sums.clear();
            counts.clear();
            Node node = Node.start(IngestBench.config(false), false, hooks, new IngestBench.PrecomputedModel())
                    .await();
            WebClient client = BenchSupport.webClient(node.vertx(), c);
            int n = 400;
            long start = System.nanoTime();
            StoreFloorsBench.lanes(c, n, i -> client.post(node.httpPort(), "127.0.0.1", "/api/files")
                            .sendMultipartForm(MultipartForm.create()
                                    .attribute("user_id", "p")
                                    .binaryFileUpload(
                                            "file", "f.txt", Buffer.buffer(IngestBench.text4k(i)), "text/plain")))
                    .await();
            double rate = n / ((System.nanoTime() - start) / 1e9);
            StringBuilder sb = new StringBuilder("concurrency " + c + ": " + (int) rate + " files/s; ms since begin:");
            for (IngestOperation.Step s : IngestOperation.Step.values()) {
                if (counts.containsKey(s)) {
                    sb.append(" ")
                            .append(s)
                            .append("=")
                            .append(sums.get(s).sum() / counts.get(s).sum());
                }
            }
            System.out.println("PROBE " + sb);
            client.close();
            node.stop().await();
        }
    }
}
