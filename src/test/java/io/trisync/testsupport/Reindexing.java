package io.trisync.testsupport;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the re-index crash tests share: files whose text carries a marker, so the texts an {@link
 * EmbeddingServer} received tell which files a run embedded; starting a re-index and reading its
 * latest state over the API.
 */
public final class Reindexing {

    private static final Pattern MARKER = Pattern.compile("marker-(\\d+)");

    private Reindexing() {}

    /**
     * A child node's environment for the re-index crash tests: {@code server} embedding as {@code
     * model}, 4 partitions scanned one at a time, a heartbeat a second, and batches that overshoot a 1
     * ms target, so they only shrink after the first (8 files): a batch in flight holds at most 8,
     * each with its checkpoint.
     */
    public static Map<String, String> nodeEnv(EmbeddingServer server, String model) {
        Map<String, String> env = new HashMap<>(server.nodeEnv(model));
        env.put("SYNC_PARTITIONS", "4");
        env.put("SYNC_SCAN_PARALLELISM", "1");
        env.put("SYNC_HEARTBEAT_INTERVAL_SECONDS", "1");
        env.put("REINDEX_TARGET_BATCH_MS", "1");
        return env;
    }

    /** The text of file {@code i}: some prose and its marker. */
    public static byte[] marked(int i) {
        return Fixtures.utf8(Fixtures.prose(60) + " marker-" + i);
    }

    /** {@code POST /api/v1/sync} of a re-index of {@code tenant}'s files. */
    public static HttpResponse<Buffer> start(Http http, String tenant) {
        return http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
    }

    /** {@code POST /api/v1/sync} of a re-index of all of {@code tenant}'s files ({@code all}: true). */
    public static HttpResponse<Buffer> startAll(Http http, String tenant) {
        return http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject()
                        .put("tenant_id", tenant)
                        .put("kind", "reindex")
                        .put("all", true)
                        .toBuffer());
    }

    /** The tenant's latest tracked operation, as the status reports it. */
    public static JsonObject latest(Http http, String tenant) {
        return Http.json(http.get("/api/v1/sync/status?tenant_id=" + tenant)).getJsonObject("latest_sync");
    }

    /** The files whose text the server embedded from position {@code from} of its inputs on. */
    public static Set<Integer> markers(List<String> inputs, int from) {
        Set<Integer> out = new HashSet<>();
        for (String text : inputs.subList(from, inputs.size())) {
            Matcher m = MARKER.matcher(text);
            if (m.find()) {
                out.add(Integer.parseInt(m.group(1)));
            }
        }
        return out;
    }
}
