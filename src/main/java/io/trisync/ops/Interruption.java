package io.trisync.ops;

import io.vertx.core.json.JsonObject;

/**
 * Why this node's tracked operations end when it stops gracefully (SIGTERM, Ctrl-C, or {@code
 * Node.stop}): the node's name and the signal that stopped it (null when none is known, as for a
 * programmatic stop or {@code System.exit}). An interrupted operation did not finish and nobody asked
 * to cancel it, so it ends {@code failed}, as one whose node died does, but at once and with this
 * reason instead of after a restart or a stale heartbeat. Its result tells whether its work resumes
 * and how, so a user knows whether to start it again. Pure.
 */
public record Interruption(String nodeName, String signal) {

    /** The result fields of an interrupted operation. */
    public static final String INTERRUPTED = "interrupted";

    public static final String NODE = "node";
    public static final String SIGNAL = "signal";
    public static final String RESUMABLE = "resumable";
    public static final String NEXT = "next";

    /** The reason recorded on the operation: {@code node n1 stopped (SIGTERM) while it ran}. */
    public String reason() {
        return "node " + nodeName + " stopped" + (signal == null ? "" : " (" + signal + ")") + " while it ran";
    }

    /**
     * The result recorded on an interrupted operation of {@code kind}: what stopped it, and what a new
     * run does with the work done so far.
     */
    public JsonObject result(String kind) {
        return new JsonObject()
                .put(INTERRUPTED, true)
                .put(NODE, nodeName)
                .put(SIGNAL, signal)
                .put(RESUMABLE, resumable(kind))
                .put(NEXT, next(kind));
    }

    /**
     * Whether a new run of {@code kind} goes on from where this one stopped rather than from the
     * beginning: a re-index from its checkpoints, an erasure from what it removed (any ingest node
     * runs it again on its own), a repair from the issues still open (each action done closed its
     * issue). A scan reads everything again.
     */
    static boolean resumable(String kind) {
        return switch (kind == null ? "" : kind) {
            case "reindex", "erase", "repair" -> true;
            default -> false;
        };
    }

    /** What happens next to the work of an interrupted operation of {@code kind}, in words. */
    static String next(String kind) {
        return switch (kind == null ? "" : kind) {
            case "reindex" -> "started again, it resumes from its checkpoints";
            case "erase" -> "an ingest node resumes the erasure on its own";
            case "repair" -> "a new repair takes the issues still open";
            case "scan" -> "a new scan checks every partition again";
            default -> "start it again";
        };
    }
}
