package io.trisync.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The shipped deployment files pass tools nobody here wrote: {@code promtool} (Debian's {@code
 * prometheus} package) checks the Prometheus configuration and runs the alert rules' unit tests;
 * {@code docker-compose config} (Debian's {@code docker-compose}, no engine needed) validates the
 * compose file. {@code .ci/run} installs both. Every metric the rules and the dashboard name is one
 * the README documents.
 */
class DeploymentIT {

    private static final Pattern METRIC = Pattern.compile("trisync_[a-z_]+");

    @Test
    @DisplayName("promtool: the Prometheus configuration and its rules are valid, and the rules' unit tests pass")
    void prometheus() throws Exception {
        run(List.of("promtool", "check", "config", "deploy/prometheus/prometheus.yml"));
        String tests = run(List.of("promtool", "test", "rules", "deploy/prometheus/rules.test.yml"));
        assertThat(tests).contains("SUCCESS");
    }

    @Test
    @DisplayName("docker-compose config: three clustered nodes by service name, one shared JWT secret, Prometheus")
    void compose() throws Exception {
        String config = run(List.of("docker-compose", "-f", "docker/compose.yml", "config"));
        for (int n = 1; n <= 3; n++) {
            String service = section(config, "trisync-" + n);
            assertThat(service).contains("CLUSTER_HOST: trisync-" + n, "NODE_ID: trisync-" + n, "--cluster");
            assertThat(service).contains("AUTH_JWT_SECRET: ", "MONGO_URI: mongodb://mongodb:27017", "health");
        }
        assertThat(config).contains("prom/prometheus");
        assertThat(Files.readString(Path.of("docker/cluster.xml")))
                .contains("<member>trisync-1</member>", "<member>trisync-2</member>", "<member>trisync-3</member>");
    }

    @Test
    @DisplayName("Every metric the alert rules and the Grafana dashboard use is documented in the README")
    void rulesAndDashboardUseDocumentedMetrics() throws IOException {
        Set<String> documented = names(Files.readString(Path.of("README.md")));
        Set<String> used = new TreeSet<>();
        used.addAll(names(Files.readString(Path.of("deploy/prometheus/rules.yml"))));
        used.addAll(names(Files.readString(Path.of("deploy/grafana/trisync.json"))));
        assertThat(used).hasSizeGreaterThan(10);
        assertThat(documented).containsAll(used);
    }

    /** The metric families named in {@code text}, histogram series folded into their family. */
    static Set<String> names(String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            out.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
        }
        return out;
    }

    /** The lines of one service in {@code docker-compose config}'s output (two-space indented). */
    private static String section(String config, String service) {
        int start = config.indexOf("\n  " + service + ":\n");
        assertThat(start).as("service %s", service).isNotNegative();
        Matcher next = Pattern.compile("\n  [a-z0-9-]+:\n|\n[a-z]").matcher(config);
        int end = next.find(start + 1) ? next.start() : config.length();
        return config.substring(start, end);
    }

    private static String run(List<String> command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(command.get(0) + " is not installed (.ci/run installs it): " + e.getMessage(), e);
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS))
                .as(String.join(" ", command))
                .isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }
}
