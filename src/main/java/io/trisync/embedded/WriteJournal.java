package io.trisync.embedded;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The embedded MongoDB's journal: every write command, in the order the server applied them,
 * appended to a file before the command is answered. The H2 file itself is committed about once a
 * second; at start the commands after its last commit are applied again from here.
 *
 * <p>A record is {@code length, crc32c, ticket, database, command, BSON of the command}; a record cut
 * short by a kill (or not matching its checksum) ends the journal, since it was never answered. The
 * journal is a directory of segments named by their first ticket: a commit of the H2 file starts a
 * new segment and removes the ones it covers.
 */
final class WriteJournal implements AutoCloseable {

    /** One write command as the server received it. */
    record Entry(long ticket, String database, String command, Document query) {}

    private static final String PREFIX = "journal-";
    private static final String SUFFIX = ".log";

    private final Path dir;
    private final boolean fsync;
    private FileChannel segment;
    private Path segmentPath;
    /** Records appended and not yet written, with the ticket of the last of them. */
    private ByteBuf pending = Unpooled.buffer(1 << 16);

    private long pendingUpTo;
    private long segmentBytes;

    private WriteJournal(Path dir, boolean fsync) {
        this.dir = dir;
        this.fsync = fsync;
    }

    /** Every complete record of the segments in {@code dir}, in order; none if there is no journal. */
    static List<Entry> read(Path dir) {
        List<Entry> entries = new ArrayList<>();
        for (Path file : segments(dir)) {
            ByteBuffer bytes;
            try {
                bytes = ByteBuffer.wrap(Files.readAllBytes(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            while (bytes.remaining() >= 8) {
                int length = bytes.getInt();
                int checksum = bytes.getInt();
                if (length <= 0 || length > bytes.remaining()) {
                    return entries;
                }
                CRC32C crc = new CRC32C();
                crc.update(bytes.array(), bytes.position(), length);
                if ((int) crc.getValue() != checksum) {
                    return entries;
                }
                ByteBuf record = Unpooled.wrappedBuffer(bytes.array(), bytes.position(), length);
                bytes.position(bytes.position() + length);
                long ticket = record.readLong();
                String database = readString(record);
                String command = readString(record);
                entries.add(new Entry(ticket, database, command, BsonDecoder.decodeBson(record)));
            }
            if (bytes.hasRemaining()) {
                return entries;
            }
        }
        return entries;
    }

    /** Starts a new segment at {@code nextTicket}; the segments there were are removed. */
    static WriteJournal open(Path dir, long nextTicket, boolean fsync) throws IOException {
        Files.createDirectories(dir);
        WriteJournal journal = new WriteJournal(dir, fsync);
        journal.startSegment(nextTicket);
        journal.removeOlderSegments();
        return journal;
    }

    /** Adds a command to the records to write; called in the order the commands were applied. */
    synchronized void append(long ticket, String database, String command, Document query) {
        int start = pending.writerIndex();
        pending.writeInt(0).writeInt(0).writeLong(ticket);
        writeString(pending, database);
        writeString(pending, command);
        BsonEncoder.encodeDocument(query, pending);
        int length = pending.writerIndex() - start - 8;
        CRC32C crc = new CRC32C();
        crc.update(pending.nioBuffer(start + 8, length));
        pending.setInt(start, length).setInt(start + 4, (int) crc.getValue());
        pendingUpTo = ticket;
    }

    /** The ticket of the last record appended (written or not); 0 before the first. */
    synchronized long appended() {
        return pendingUpTo;
    }

    /**
     * Writes the records appended so far to the segment (and forces them to the device with
     * fsync); returns the ticket of the last record now in the file.
     */
    long flush() throws IOException {
        ByteBuf out;
        long upTo;
        synchronized (this) {
            if (pending.readableBytes() == 0) {
                return pendingUpTo;
            }
            out = pending;
            upTo = pendingUpTo;
            pending = Unpooled.buffer(Math.max(1 << 16, out.capacity()));
        }
        ByteBuffer bytes = out.nioBuffer();
        while (bytes.hasRemaining()) {
            segment.write(bytes);
        }
        segmentBytes += out.readableBytes();
        if (fsync) {
            segment.force(false);
        }
        return upTo;
    }

    /** Bytes written to the current segment. */
    long segmentBytes() {
        return segmentBytes;
    }

    /**
     * After the H2 file holds every command up to {@code nextTicket - 1}: the records appended since
     * go to a new segment and the older segments are removed. Called with no command being applied.
     */
    void rotate(long nextTicket) throws IOException {
        flush();
        segment.close();
        startSegment(nextTicket);
        removeOlderSegments();
    }

    @Override
    public void close() throws IOException {
        flush();
        segment.close();
    }

    private void startSegment(long firstTicket) throws IOException {
        segmentPath = dir.resolve(String.format("%s%019d%s", PREFIX, firstTicket, SUFFIX));
        segment = FileChannel.open(
                segmentPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        segmentBytes = 0;
        if (fsync) {
            // The new name in its directory, so a power loss cannot keep the file without its entry.
            try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
                directory.force(true);
            } catch (IOException notSupported) {
                // Some file systems do not open directories; the segment is forced on every flush.
            }
        }
    }

    private void removeOlderSegments() throws IOException {
        for (Path old : segments(dir)) {
            if (!old.equals(segmentPath)) {
                Files.delete(old);
            }
        }
    }

    private static List<Path> segments(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> {
                        String name = f.getFileName().toString();
                        return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeString(ByteBuf out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeShort(bytes.length).writeBytes(bytes);
    }

    private static String readString(ByteBuf in) {
        byte[] bytes = new byte[in.readUnsignedShort()];
        in.readBytes(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
