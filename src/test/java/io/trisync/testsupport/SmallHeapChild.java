package io.trisync.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A main of the test class path run in a child JVM with a small heap on the shared stack's stores,
 * which prints one {@code RESULT {json}} line (its measurements) and exits 0: what the memory tests
 * share.
 */
public final class SmallHeapChild {

    private SmallHeapChild() {}

    /** Runs {@code mainClass args…} with {@code heap} (e.g. {@code -Xmx48m}); its result line, or the test fails. */
    public static JsonObject run(
            String heap, TrisyncConfig shared, long timeoutSeconds, String mainClass, String... args) throws Exception {
        return run(List.of(heap), Map.of(), shared, timeoutSeconds, mainClass, args);
    }

    /**
     * {@link #run(String, TrisyncConfig, long, String, String...)} with {@code options} for the JVM
     * (its heap among them) and {@code env} added to its environment.
     */
    public static JsonObject run(
            List<String> options,
            Map<String, String> env,
            TrisyncConfig shared,
            long timeoutSeconds,
            String mainClass,
            String... args)
            throws Exception {
        ProcessBuilder child = ChildJvm.java(options, mainClass, args);
        child.environment().putAll(env);
        child.environment().put("MONGO_URI", shared.mongo().uri());
        child.environment().put("S3_ENDPOINT", shared.s3().endpoint());
        child.environment().put("QDRANT_HOST", shared.qdrant().host());
        child.environment().put("QDRANT_PORT", String.valueOf(shared.qdrant().port()));
        child.environment().put("HTTP_PORT", "0");
        child.environment().put("DATA_DIR", TestStack.tempDir("trisync-mem").toString());
        Process process = child.start();
        JsonObject result = null;
        List<String> tail = new ArrayList<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    result = new JsonObject(line.substring(7));
                }
                tail.add(line);
                if (tail.size() > 40) {
                    tail.remove(0);
                }
            }
        }
        assertThat(process.waitFor(timeoutSeconds, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join("\n", tail)).isZero();
        assertThat(result).as(String.join("\n", tail)).isNotNull();
        return result;
    }
}
