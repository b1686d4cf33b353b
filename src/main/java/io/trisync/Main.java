package io.trisync;

import io.trisync.config.ConfigException;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code java -jar target/trisync.jar [run] [--cluster]}. Loads the configuration
 * (a bad value stops here with one line naming the key), starts a {@link Node}, and stops it on
 * SIGTERM or Ctrl-C.
 */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        List<String> argv = List.of(args);
        if (argv.contains("--help") || argv.contains("-h")) {
            System.out.println("usage: java -jar target/trisync.jar [run] [--cluster]");
            return;
        }
        TrisyncConfig config;
        try {
            config = ConfigLoader.load();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Node node;
        try {
            node = Node.start(config, argv.contains("--cluster"))
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.MINUTES);
        } catch (Exception | LinkageError e) {
            LOG.error("Node did not start: {}", rootMessage(e), e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node), "trisync-shutdown"));
    }

    private static void stop(Node node) {
        try {
            node.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Node did not stop cleanly: {}", rootMessage(e));
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
