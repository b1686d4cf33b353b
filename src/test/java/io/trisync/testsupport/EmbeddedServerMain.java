package io.trisync.testsupport;

import io.trisync.embedded.EmbeddedMongo;
import io.trisync.embedded.EmbeddedS3;
import io.trisync.embedded.qdrant.EmbeddedQdrant;
import java.nio.file.Path;

/**
 * One embedded store alone, in its own JVM, for tests that kill it: {@code mongo|s3|qdrant port dir}.
 * Prints {@code READY} once it listens and then runs until killed. The S3 server takes the access
 * key {@link #ACCESS} and secret {@link #SECRET}.
 */
public final class EmbeddedServerMain {

    public static final String ACCESS = "kill-access";
    public static final String SECRET = "kill-secret-key";

    private EmbeddedServerMain() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        switch (args[0]) {
            case "mongo" -> EmbeddedMongo.start(port, dir);
            case "s3" -> EmbeddedS3.start(port, dir, ACCESS, SECRET);
            case "qdrant" -> EmbeddedQdrant.start(port, dir, "");
            default -> throw new IllegalArgumentException("no embedded store " + args[0]);
        }
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
