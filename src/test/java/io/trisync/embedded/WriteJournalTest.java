package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.bson.Document;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteJournalTest {

    @TempDir
    Path dir;

    private static Document insert(int i) {
        return new Document("insert", "docs")
                .append("documents", List.of(new Document("_id", "doc-" + i).append("n", i)));
    }

    /** Appends inserts with tickets 1 to {@code n}. */
    private static void appendInserts(WriteJournal journal, int n) {
        for (int i = 1; i <= n; i++) {
            journal.append(i, "trisync", "insert", insert(i));
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    @Test
    @DisplayName("Records written read back in order, with ticket, database, command and document")
    void readsWhatWasWritten() throws IOException {
        WriteJournal journal = WriteJournal.open(dir, 1, false);
        appendInserts(journal, 3);
        assertThat(journal.appended()).isEqualTo(3);
        assertThat(journal.flush()).isEqualTo(3);
        journal.append(4, "other", "delete", new Document("delete", "docs"));
        journal.close();

        List<WriteJournal.Entry> entries = WriteJournal.read(dir);
        assertThat(entries).extracting(WriteJournal.Entry::ticket).containsExactly(1L, 2L, 3L, 4L);
        assertThat(entries.get(0).database()).isEqualTo("trisync");
        assertThat(entries.get(0).command()).isEqualTo("insert");
        assertThat(entries.get(0).query()).isEqualTo(insert(1));
        assertThat(entries.get(3).database()).isEqualTo("other");
    }

    @Test
    @DisplayName("Records appended but never written are not read: only the file counts")
    void unwrittenRecordsAreNotThere() throws IOException {
        WriteJournal journal = WriteJournal.open(dir, 1, false);
        journal.append(1, "trisync", "insert", insert(1));
        journal.flush();
        journal.append(2, "trisync", "insert", insert(2));
        // No flush: a kill now loses record 2, which was therefore never answered.
        assertThat(WriteJournal.read(dir))
                .extracting(WriteJournal.Entry::ticket)
                .containsExactly(1L);
    }

    @Test
    @DisplayName("A record cut short or damaged by a kill ends the journal; the records before it stand")
    void tornTailEndsTheJournal() throws IOException {
        WriteJournal journal = WriteJournal.open(dir, 1, false);
        appendInserts(journal, 3);
        journal.close();
        Path segment = segments().get(0);
        long whole = Files.size(segment);
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.setLength(whole - 5);
        }
        assertThat(WriteJournal.read(dir))
                .extracting(WriteJournal.Entry::ticket)
                .containsExactly(1L, 2L);

        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            // Flip a byte inside the second record's document: its checksum no longer matches.
            long second = whole / 3 + 20;
            file.seek(second);
            int b = file.read();
            file.seek(second);
            file.write(b ^ 0xff);
        }
        assertThat(WriteJournal.read(dir))
                .extracting(WriteJournal.Entry::ticket)
                .containsExactly(1L);
    }

    @Test
    @DisplayName("Rotating starts a segment at the next ticket and removes the ones the file now holds")
    void rotationRemovesCoveredSegments() throws IOException {
        WriteJournal journal = WriteJournal.open(dir, 1, false);
        journal.append(1, "trisync", "insert", insert(1));
        journal.append(2, "trisync", "insert", insert(2));
        journal.rotate(3);
        journal.append(3, "trisync", "insert", insert(3));
        journal.close();
        assertThat(segments()).hasSize(1);
        assertThat(WriteJournal.read(dir))
                .extracting(WriteJournal.Entry::ticket)
                .containsExactly(3L);

        // Opened again at ticket 4 (the file holds 1..3): the old segment goes.
        WriteJournal.open(dir, 4, true).close();
        assertThat(segments()).hasSize(1);
        assertThat(WriteJournal.read(dir)).isEmpty();
    }
}
