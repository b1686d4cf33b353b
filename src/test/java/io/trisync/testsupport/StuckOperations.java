package io.trisync.testsupport;

import io.trisync.store.SyncOperation;
import java.time.Instant;

/** Tracked operations as a dead worker leaves them, written straight into the store by tests. */
public final class StuckOperations {

    private StuckOperations() {}

    /** A running scan of {@code tenant}, id {@code stuck-{tenant}}, on a node that is gone, last heard of ten minutes ago. */
    public static SyncOperation scanOfGoneNode(String tenant) {
        Instant old = Instant.now().minusSeconds(600);
        return new SyncOperation(
                "stuck-" + tenant,
                tenant,
                "scan",
                SyncOperation.Status.RUNNING,
                old,
                null,
                old,
                7200,
                null,
                0,
                null,
                "gone-member",
                "gone-node",
                null,
                null,
                null);
    }
}
