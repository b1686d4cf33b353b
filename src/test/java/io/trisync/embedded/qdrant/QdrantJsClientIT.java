package io.trisync.embedded.qdrant;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Qdrant's official JavaScript gRPC client ({@code @qdrant/js-client-grpc}, installed from npm by
 * this test when missing) against the embedded server: create, exists, upsert with numeric and UUID
 * ids, filtered count, scroll pages, cosine search, delete by filter, drop.
 */
@Timeout(400)
class QdrantJsClientIT {

    private static final Path DIR = Path.of("src/test/js/qdrant-js");

    @Test
    @DisplayName("The official JavaScript gRPC client gets Qdrant's answers from the embedded server")
    void javascriptClientWorks() throws Exception {
        if (!Files.isDirectory(DIR.resolve("node_modules/@qdrant/js-client-grpc"))) {
            Result install = run(300, "npm", "ci", "--no-audit", "--no-fund");
            assertThat(install.exit).as("npm ci: %s", install.output).isZero();
        }
        try (EmbeddedQdrant server = EmbeddedQdrant.start(0, null, "")) {
            Result check = run(60, "node", "check.mjs", String.valueOf(server.port()));
            assertThat(check.exit).as(check.output).isZero();
            assertThat(check.output).contains("{\"ok\":true,\"searched\":3}");
        }
    }

    private record Result(int exit, String output) {}

    private static Result run(int seconds, String... command) throws Exception {
        File log = File.createTempFile("js-check", ".log");
        Process p = new ProcessBuilder(command)
                .directory(DIR.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log)
                .start();
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        return new Result(done ? p.exitValue() : -1, output);
    }
}
