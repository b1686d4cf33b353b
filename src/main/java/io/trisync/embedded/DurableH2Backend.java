package io.trisync.embedded;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The H2 MVStore backend of {@code mongo-java-server}, made to answer only what is in the file. The
 * stock backend leaves commits to MVStore's background writer (about once a second) and answers
 * before that, so a kill -9 lost the last second of acknowledged writes.
 *
 * <p>Here every reply waits for a commit: a write's reply until a commit that began after the write
 * was applied, a read's reply until every write applied before it is committed (so nothing read can
 * vanish in a crash). The wait does not block the server's threads: the reply is parked in an
 * outbound handler of its connection, and one committer thread commits whatever has been written
 * since its last commit, then releases every parked reply that commit covers. That is a group commit:
 * while one commit runs, the writes of every connection gather for the next.
 *
 * <p>A commit reaches the operating system's page cache, which survives the death of this process;
 * with {@code fsync} it is also forced to the device, which survives a machine's power loss.
 */
final class DurableH2Backend extends H2Backend {

    private static final Logger LOG = LoggerFactory.getLogger(DurableH2Backend.class);

    /** Commands that only read; every other command counts as a write ({@code aggregate} may {@code $out}). */
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

    /** The commit a connection's next reply must wait for, set while its command is handled. */
    private static final AttributeKey<Long> AWAITS = AttributeKey.valueOf("trisync.awaitsCommit");

    private final MVStore store;
    private final boolean fsync;
    /** Tickets handed to writes as they begin, in order. */
    private final AtomicLong written = new AtomicLong();
    /** Tickets of writes still being applied: a commit covers only the tickets below the lowest. */
    private final ConcurrentSkipListSet<Long> applying = new ConcurrentSkipListSet<>();
    /** The highest ticket whose write is in the file. */
    private volatile long committed;
    /** Set once a commit failed: nothing is answered any more (the file is in doubt). */
    private volatile boolean failed;

    private long commits;
    /** Connections with replies parked until a commit. */
    private final Set<ParkedReplies> parked = ConcurrentHashMap.newKeySet();

    private final Object wake = new Object();
    /** Commits between two compactions of the file. */
    private static final int COMPACT_EVERY = 2_000;

    private final Thread committer;
    private volatile boolean closing;

    DurableH2Backend(MVStore store, boolean fsync) {
        super(store);
        this.store = store;
        this.fsync = fsync;
        this.committer = new Thread(this::commitLoop, "trisync-mongo-committer");
        committer.setDaemon(true);
        committer.start();
    }

    /** Databases whose non-unique indexes are kept ({@link SecondaryIndex}) instead of ignored. */
    @Override
    protected de.bwaldvogel.mongo.MongoDatabase openOrCreateDatabase(String databaseName) {
        // Called from the super constructor too (databases found in the file): only inherited state here.
        MVStore file = getMvStore();
        return new de.bwaldvogel.mongo.backend.h2.H2Database(databaseName, file, getCursorRegistry()) {
            /** As the stock database opens a collection's maps (same names), its documents kept as BSON. */
            @Override
            protected de.bwaldvogel.mongo.MongoCollection<Object> openOrCreateCollection(
                    String collectionName, de.bwaldvogel.mongo.backend.CollectionOptions options) {
                String namespace = getFullCollectionNamespace(collectionName);
                MVMap<Object, Document> documents = file.openMap(
                        "databases." + namespace,
                        new MVMap.Builder<Object, Document>().valueType(BsonDocumentType.INSTANCE));
                MVMap<String, Object> meta = file.openMap("meta." + namespace);
                return new de.bwaldvogel.mongo.backend.h2.H2Collection(
                        this, collectionName, options, documents, meta, cursorRegistry);
            }

            @Override
            protected de.bwaldvogel.mongo.backend.Index<Object> openOrCreateSecondaryIndex(
                    String collectionName,
                    String indexName,
                    java.util.List<de.bwaldvogel.mongo.backend.IndexKey> keys,
                    boolean sparse) {
                return new SecondaryIndex<>(indexName, keys, sparse);
            }
        };
    }

    /**
     * Opens the file with MVStore's background writer off: with it on, a commit could find the
     * changes already handed to the writer's threads and return before they were in the file.
     */
    static DurableH2Backend open(String fileName, boolean fsync) {
        return new DurableH2Backend(
                new MVStore.Builder().fileName(fileName).autoCommitDisabled().open(), fsync);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        if (failed) {
            throw new MongoServerException("the embedded MongoDB can no longer write to its file; restart the node");
        }
        boolean read = READS.contains(command.toLowerCase(Locale.ROOT));
        // A write's ticket is taken before it is applied, so that a read on another connection that
        // already sees it also waits for its commit.
        long ticket = read ? written.get() : begin();
        try {
            return super.handleCommand(channel, database, command, query);
        } finally {
            if (!read) {
                synchronized (applying) {
                    applying.remove(ticket);
                }
            }
            if (ticket > committed) {
                parkReplyOf(channel, ticket);
            }
        }
    }

    private long begin() {
        synchronized (applying) {
            long ticket = written.incrementAndGet();
            applying.add(ticket);
            return ticket;
        }
    }

    /** The highest ticket all of whose writes, and all before them, are applied. */
    private long applied() {
        synchronized (applying) {
            return applying.isEmpty() ? written.get() : applying.first() - 1;
        }
    }

    @Override
    public void close() {
        closing = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        try {
            committer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        super.close();
    }

    /** Marks the reply {@code channel} is about to write as waiting for the commit of {@code ticket}. */
    private void parkReplyOf(Channel channel, long ticket) {
        if (channel == null) {
            commitNow(ticket);
            return;
        }
        if (channel.pipeline().get(ParkedReplies.class) == null) {
            channel.pipeline().addFirst(new ParkedReplies());
        }
        channel.attr(AWAITS).set(ticket);
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** For a command with no connection (none in practice): commit on the caller's thread. */
    private void commitNow(long ticket) {
        synchronized (this) {
            if (committed < ticket) {
                commit(applied());
            }
        }
    }

    private void commitLoop() {
        try {
            while (true) {
                long upTo;
                synchronized (wake) {
                    while (applied() <= committed && !closing) {
                        wake.wait();
                    }
                    upTo = applied();
                }
                if (upTo > committed) {
                    synchronized (this) {
                        if (!commit(upTo)) {
                            return;
                        }
                    }
                    parked.forEach(ParkedReplies::releaseLater);
                }
                if (closing && applied() <= committed) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            fail(e);
        }
    }

    /** Commits everything applied so far (covering tickets up to {@code upTo}); false when the store failed. */
    private boolean commit(long upTo) {
        try {
            store.commit();
            if (fsync) {
                store.sync();
            }
            committed = upTo;
            if (++commits % COMPACT_EVERY == 0) {
                // With the background writer off, nobody else rewrites sparse chunks.
                store.compact(50, 1 << 20);
            }
            return true;
        } catch (RuntimeException e) {
            fail(e);
            return false;
        }
    }

    /** Nothing more is answered: the connections with parked replies are closed, later commands fail. */
    private void fail(Throwable e) {
        LOG.error("The embedded MongoDB could not commit to its file; closing its connections", e);
        failed = true;
        parked.forEach(ParkedReplies::fail);
    }

    /**
     * One connection's replies held back until the commit they wait for. Runs on the connection's
     * event loop; replies leave in the order they were written.
     */
    private final class ParkedReplies extends ChannelDuplexHandler {

        private record Reply(long ticket, Object message, ChannelPromise promise) {}

        private final ArrayDeque<Reply> queue = new ArrayDeque<>();
        private ChannelHandlerContext context;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            context = ctx;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            Long ticket = ctx.channel().attr(AWAITS).getAndSet(null);
            long awaits = ticket == null ? 0 : ticket;
            if (queue.isEmpty() && awaits <= committed) {
                ctx.write(msg, promise);
                return;
            }
            queue.add(new Reply(awaits, msg, promise));
            parked.add(this);
            // A commit that ended between the check above and joining the parked set released nobody.
            release();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (queue.isEmpty()) {
                ctx.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            parked.remove(this);
            for (Reply reply : queue) {
                ReferenceCountUtil.release(reply.message());
                reply.promise().tryFailure(new ClosedChannelException());
            }
            queue.clear();
            super.channelInactive(ctx);
        }

        void releaseLater() {
            try {
                context.executor().execute(this::release);
            } catch (RejectedExecutionException e) {
                // The server is shutting down: the connection goes, its replies with it.
                parked.remove(this);
            }
        }

        void fail() {
            try {
                context.executor().execute(() -> context.channel().close());
            } catch (RejectedExecutionException e) {
                parked.remove(this);
            }
        }

        private void release() {
            boolean wrote = false;
            while (!queue.isEmpty() && queue.peek().ticket() <= committed) {
                Reply reply = queue.poll();
                context.write(reply.message(), reply.promise());
                wrote = true;
            }
            if (queue.isEmpty()) {
                parked.remove(this);
            }
            if (wrote) {
                context.flush();
            }
        }
    }
}
