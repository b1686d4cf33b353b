package io.trisync.embedded;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.mvstore.MVStore;

/**
 * The H2 MVStore backend of {@code mongo-java-server}, made to answer a write only once it is in the
 * file. The stock backend leaves commits to MVStore's background writer (about once a second), so a
 * kill -9 lost the last second of acknowledged writes. Here every command that may write commits
 * before its reply is sent, as a group commit: a command whose changes another thread's commit
 * already covered answers without a commit of its own, so concurrent writers share one file write.
 *
 * <p>A commit reaches the operating system's page cache, which survives the death of this process;
 * with {@code fsync} it is also forced to the device, which survives a machine's power loss.
 */
final class DurableH2Backend extends H2Backend {

    /** Commands that only read; every other command commits before it answers. */
    private static final Set<String> READS = Set.of(
            "find",
            "getmore",
            "count",
            "distinct",
            "listcollections",
            "listindexes",
            "listdatabases",
            "ismaster",
            "hello",
            "buildinfo",
            "ping",
            "whatsmyuri",
            "serverstatus",
            "getlasterror",
            "getparameter",
            "endsessions",
            "killcursors",
            "dbstats",
            "collstats",
            "connectionstatus",
            "hostinfo",
            "getcmdlineopts",
            "getfreemonitoringstatus",
            "saslstart",
            "saslcontinue");

    private final MVStore store;
    private final boolean fsync;
    private final Object commitLock = new Object();
    /** Tickets handed to finished writes, in the order they finished. */
    private final AtomicLong written = new AtomicLong();
    /** The highest ticket whose write is in the file. */
    private long committed;

    DurableH2Backend(MVStore store, boolean fsync) {
        super(store);
        this.store = store;
        this.fsync = fsync;
    }

    static DurableH2Backend open(String fileName, boolean fsync) {
        return new DurableH2Backend(MVStore.open(fileName), fsync);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        try {
            return super.handleCommand(channel, database, command, query);
        } finally {
            if (!READS.contains(command.toLowerCase(Locale.ROOT))) {
                commitWrites();
            }
        }
    }

    /**
     * Returns once every write finished before this call is in the file. The first waiter commits
     * everything finished so far; the others find their ticket covered and return.
     */
    private void commitWrites() {
        long ticket = written.incrementAndGet();
        synchronized (commitLock) {
            if (committed >= ticket) {
                return;
            }
            long upTo = written.get();
            store.commit();
            if (fsync) {
                store.sync();
            }
            committed = upTo;
        }
    }
}
