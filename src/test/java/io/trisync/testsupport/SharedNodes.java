package io.trisync.testsupport;

import io.trisync.Node;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Nodes on the shared {@link TestStack}, each started once per JVM under a name and reused by every
 * test class that asks for that name (they keep apart by tenant), each on a MongoDB database of its
 * own, stopped when the JVM exits. For
 * classes whose tests need a node of one configuration but neither stop it nor change it.
 */
public final class SharedNodes {

    private static final Map<String, Node> NODES = new HashMap<>();

    private SharedNodes() {}

    /** The node called {@code name}, started on first use with {@code overrides} (later callers' are ignored). */
    public static synchronized Node node(String name, Map<String, String> overrides) {
        Node node = NODES.get(name);
        if (node == null) {
            // A database of its own (unless given): a node living as long as the JVM must not sweep
            // other classes' operations, recover their uploads or take their index jobs.
            Map<String, String> env = new HashMap<>(overrides);
            env.putIfAbsent("MONGO_DB", TestStack.unique(name));
            node = Node.start(TestStack.nodeConfig(env), false).await();
            NODES.put(name, node);
            Node started = node;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.stop().await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // The JVM is exiting: what the node could not stop in time ends with it.
                }
            }));
        }
        return node;
    }
}
