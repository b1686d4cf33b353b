package io.trisync.testsupport;

import io.trisync.embedded.EmbeddedMongo;
import java.nio.file.Path;

/**
 * The embedded MongoDB-wire server alone, in its own JVM, for tests that kill it: {@code port dir}.
 * Prints {@code READY} once it listens and then runs until killed.
 */
public final class EmbeddedMongoMain {

    private EmbeddedMongoMain() {}

    public static void main(String[] args) throws Exception {
        EmbeddedMongo.start(Integer.parseInt(args[0]), Path.of(args[1]));
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
