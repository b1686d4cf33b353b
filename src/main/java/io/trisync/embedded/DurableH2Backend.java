package io.trisync.embedded;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerException;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The H2 MVStore backend of {@code mongo-java-server}, made to answer only what is on disk. The stock
 * backend leaves commits to MVStore's background writer (about once a second) and answers before
 * that, so a kill -9 lost the last second of acknowledged writes.
 *
 * <p>Here every write command is appended to a journal ({@link WriteJournal}) in the order it was
 * applied, and its reply waits until the journal holds it in its file; a read's reply waits until
 * every write applied before it is there too (so nothing read can vanish in a crash). The H2 file is
 * committed about once a second, recording the last journaled command it holds; at start the
 * commands after that are applied again. The wait does not block the server's threads: the reply is
 * parked in an outbound handler of its connection, and one writer thread appends whatever was
 * journaled since its last write, then releases every parked reply that write covers. That is a
 * group commit: while one write runs, the commands of every connection gather for the next. A
 * commit of the H2 file, by contrast, rewrites every B-tree page the commands touched, which is why
 * it is not made before each reply.
 *
 * <p>A journal write reaches the operating system's page cache, which survives the death of this
 * process; with {@code fsync} it is also forced to the device, which survives a machine's power loss.
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

    /** Where the H2 file records the ticket of the last journaled command it holds. */
    private static final String MARKS = "trisync.journal";

    private static final String COMMITTED_UP_TO = "committedUpTo";
    /** How often the H2 file is committed, and the journal size that commits it sooner. */
    static final long STORE_COMMIT_MS = 1_000;

    private static final long SEGMENT_BYTES = 32L << 20;
    /** Commits of the H2 file between two compactions of it. */
    private static final int COMPACT_EVERY = 60;

    private final MVStore store;
    private final boolean fsync;
    private final MVMap<String, Long> marks;
    private final WriteJournal journal;
    /** Held while a write command is applied and journaled, and while the H2 file is committed. */
    private final Object applying = new Object();
    /** Tickets handed to writes as they begin, in order. */
    private final AtomicLong written = new AtomicLong();
    /** The highest ticket whose command is in the journal's file. */
    private volatile long durable;
    /** Set once a journal write or commit failed: nothing is answered any more (the file is in doubt). */
    private volatile boolean failed;

    private long storeCommits;
    private long lastStoreCommit = System.currentTimeMillis();
    /** Connections with replies parked until a journal write. */
    private final Set<ParkedReplies> parked = ConcurrentHashMap.newKeySet();

    private final Object wake = new Object();
    private final Thread writer;
    private volatile boolean closing;

    private DurableH2Backend(MVStore store, boolean fsync, Path journalDir) throws IOException {
        super(store);
        this.store = store;
        this.fsync = fsync;
        this.marks = store.openMap(MARKS);
        long upTo = replay(journalDir);
        written.set(upTo);
        durable = upTo;
        this.journal = WriteJournal.open(journalDir, upTo + 1, fsync);
        this.writer = new Thread(this::writeLoop, "trisync-mongo-journal");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Applies the journaled commands the H2 file does not hold yet (those after its last commit),
     * in order, and commits the file; the ticket of the last command it now holds.
     */
    private long replay(Path journalDir) {
        long upTo = marks.getOrDefault(COMMITTED_UP_TO, 0L);
        List<WriteJournal.Entry> entries = WriteJournal.read(journalDir);
        EmbeddedChannel replaying = new EmbeddedChannel();
        int applied = 0;
        int refused = 0;
        for (WriteJournal.Entry entry : entries) {
            if (entry.ticket() <= upTo) {
                continue;
            }
            try {
                super.handleCommand(replaying, entry.database(), entry.command(), entry.query());
            } catch (RuntimeException sameAsTheFirstTime) {
                // A command that failed when first run (a duplicate key, say) fails again alike.
                refused++;
            }
            upTo = entry.ticket();
            applied++;
        }
        handleClose(replaying);
        replaying.close();
        if (applied > 0) {
            marks.put(COMMITTED_UP_TO, upTo);
            commitFile();
            LOG.info(
                    "Embedded MongoDB applied {} journaled writes the file did not hold yet ({} refused again as when first run)",
                    applied,
                    refused);
        }
        return upTo;
    }

    /** Commits the H2 file (and forces it to the device with fsync). */
    private void commitFile() {
        store.commit();
        if (fsync) {
            store.sync();
        }
    }

    /**
     * Databases whose non-unique indexes are kept ({@link SecondaryIndex}) instead of ignored, and
     * whose unique ones are ordered by value ({@link UniqueIndex}).
     */
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

            /** As the stock database opens a unique index's map (same name), ordered without serializing. */
            @Override
            protected de.bwaldvogel.mongo.backend.Index<Object> openOrCreateUniqueIndex(
                    String collectionName,
                    String indexName,
                    List<de.bwaldvogel.mongo.backend.IndexKey> keys,
                    boolean sparse) {
                String mapName = getFullCollectionNamespace(collectionName) + "._index_" + indexName;
                return UniqueIndex.open(file, mapName, indexName, keys, sparse);
            }

            @Override
            protected de.bwaldvogel.mongo.backend.Index<Object> openOrCreateSecondaryIndex(
                    String collectionName,
                    String indexName,
                    List<de.bwaldvogel.mongo.backend.IndexKey> keys,
                    boolean sparse) {
                return new SecondaryIndex<>(indexName, keys, sparse);
            }
        };
    }

    /**
     * Opens the file, its journal in {@code fileName + ".journal"}, with MVStore's own commits off
     * (its background writer, and the commit a writing thread makes when a megabyte is unsaved): the
     * file is committed only with the journal's position, by the journal's writer, so it holds
     * exactly the commands up to that position and replay applies none of them twice.
     */
    static DurableH2Backend open(String fileName, boolean fsync) throws IOException {
        return new DurableH2Backend(
                new MVStore.Builder()
                        .fileName(fileName)
                        .autoCommitDisabled()
                        .autoCommitBufferSize(0)
                        .open(),
                fsync,
                Path.of(fileName + ".journal"));
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        if (failed) {
            throw new MongoServerException("the embedded MongoDB can no longer write to its file; restart the node");
        }
        long ticket;
        if (isRead(command, query)) {
            // Every write begun before this read may be seen by it: the reply waits for them all.
            ticket = written.get();
            try {
                return super.handleCommand(channel, database, command, query);
            } finally {
                if (ticket > durable) {
                    parkReplyOf(channel, ticket);
                }
            }
        }
        String unsafe = ReplaySafety.unsafe(command, query);
        if (unsafe != null) {
            throw new MongoServerException(
                    "the embedded MongoDB journals writes to apply them again after a crash: " + unsafe);
        }
        ticket = 0;
        try {
            synchronized (applying) {
                // The ticket is taken before the write is applied, so that a read on another
                // connection that already sees it also waits for it to be journaled.
                ticket = written.incrementAndGet();
                try {
                    return super.handleCommand(channel, database, command, query);
                } finally {
                    // Journaled failed or not: a command that failed half way (an insert of many)
                    // has changed what it changed, and fails at the same point when applied again.
                    try {
                        journal.append(ticket, database, command, query);
                    } catch (RuntimeException e) {
                        fail(e);
                    }
                }
            }
        } finally {
            // Outside the lock (a reply parks, it never waits here); an error reply waits alike.
            parkReplyOf(channel, ticket);
        }
    }

    /** Commands that change nothing: every command except these is journaled. */
    private static boolean isRead(String command, Document query) {
        String name = command.toLowerCase(Locale.ROOT);
        if (name.equals("aggregate")) {
            Object pipeline = query.get("pipeline");
            return pipeline instanceof List<?> stages
                    && stages.stream()
                            .noneMatch(stage ->
                                    stage instanceof Document d && (d.containsKey("$out") || d.containsKey("$merge")));
        }
        return READS.contains(name);
    }

    @Override
    public void close() {
        closing = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        try {
            writer.join(10_000);
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
            channel.pipeline().addFirst(new ParkedReplies(() -> durable, parked));
        }
        channel.attr(ParkedReplies.AWAITS).set(ticket);
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** For a command with no connection (none in practice): waits on the caller's thread. */
    private void commitNow(long ticket) {
        synchronized (wake) {
            wake.notifyAll();
            while (durable < ticket && !failed) {
                try {
                    wake.wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * The journal's writer: writes what was journaled since its last write and releases the replies
     * it covers; about once a second, and last at close, commits the H2 file.
     */
    private void writeLoop() {
        try {
            while (true) {
                synchronized (wake) {
                    while (journal.appended() <= durable && !closing && !storeCommitDue()) {
                        wake.wait(STORE_COMMIT_MS);
                    }
                }
                release(journal.flush());
                if (closing || storeCommitDue()) {
                    commitStore();
                }
                if (closing && journal.appended() <= durable) {
                    journal.close();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            fail(e);
        }
    }

    private boolean storeCommitDue() {
        return System.currentTimeMillis() - lastStoreCommit >= STORE_COMMIT_MS
                        && journal.appended() > marks.getOrDefault(COMMITTED_UP_TO, 0L)
                || journal.segmentBytes() > SEGMENT_BYTES;
    }

    private void release(long upTo) {
        if (upTo > durable) {
            durable = upTo;
            parked.forEach(ParkedReplies::releaseLater);
            synchronized (wake) {
                wake.notifyAll();
            }
        }
    }

    /**
     * Commits the H2 file with every command applied so far, records the last one's ticket in it,
     * and starts a new journal segment (the older ones are no longer needed). No command is applied
     * meanwhile, so the file holds exactly the commands up to that ticket.
     */
    private void commitStore() throws IOException {
        synchronized (applying) {
            release(journal.flush());
            long upTo = written.get();
            marks.put(COMMITTED_UP_TO, upTo);
            if (++storeCommits % COMPACT_EVERY == 0) {
                // With the background writer off, nobody else rewrites sparse chunks; here, with the
                // mark set and no command applied, any commit the compaction makes is exact too.
                store.compact(50, 1 << 20);
            }
            commitFile();
            journal.rotate(upTo + 1);
        }
        lastStoreCommit = System.currentTimeMillis();
    }

    /** Nothing more is answered: the connections with parked replies are closed, later commands fail. */
    private void fail(Throwable e) {
        LOG.error("The embedded MongoDB could not write its journal or file; closing its connections", e);
        failed = true;
        parked.forEach(ParkedReplies::fail);
    }
}
