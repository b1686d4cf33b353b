package io.trisync.bridge;

import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The SockJS sessions that have closed while SockJS still keeps them: it answers a closed session's
 * polls with its close frame until the session's timeout removes it from its map, and a frame posted to
 * it meanwhile with an empty 404. {@link Bridge#checkSend} refuses such a frame as one to a session
 * that is not there. A session is marked as the bridge's socket closes ({@link FrameCheck}); it is held
 * weakly and by identity (SockJS's sessions keep {@code Object}'s equality), so one SockJS has let go
 * of leaves the set with it. One set for the JVM: a session is one object, whichever node made it.
 */
final class ClosedSessions {

    private static final Set<Object> CLOSED =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private ClosedSessions() {}

    /** Marks {@code session} (the socket SockJS handed the bridge) closed. */
    static void add(Object session) {
        CLOSED.add(session);
    }

    /** Whether {@code session} (as SockJS's session map holds it) has closed. */
    static boolean has(Object session) {
        return CLOSED.contains(session);
    }
}
