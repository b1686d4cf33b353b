package io.trisync.embedding;

import java.io.IOException;

/**
 * What stops the reading of an Office file, shared by {@link OfficeText}, {@link OfficeParts},
 * {@link OfficeXml}, {@link TextBudget} and, for legacy binary files, {@link LegacyOfficeText} and
 * {@link SheetRecords}: its caps, and the two ways a reading ends without text.
 */
final class OfficeLimits {

    private OfficeLimits() {}

    /** The most parts (slides, sheets) read: a crafted file of a hundred thousand empty slides is refused. */
    static final int MAX_PARTS = 10_000;

    /** The most entries a file may hold. */
    static final int MAX_ENTRIES = 50_000;

    /** Why a part whose XML declares a DTD or refers to entities is not read. */
    static final String DTD = "the document's XML declares a DTD or entities, which are not read";

    /** Why a file of an Office kind gives no text: its reason, for the file's record. */
    static final class Unreadable extends Exception {
        private final boolean document;

        Unreadable(String reason) {
            this(reason, true);
        }

        Unreadable(String reason, boolean document) {
            super(reason, null, false, false);
            this.document = document;
        }

        /**
         * Whether the file showed itself an Office document (a ZIP holding a document part was seen)
         * before it was found unreadable: false for a file that is no readable ZIP, holds no document
         * part, or passed a limit before one was seen.
         */
        boolean document() {
            return document;
        }
    }

    /** A limit the document passed: its message is the reason. */
    static final class Limit extends IOException {
        Limit(String message) {
            super(message);
        }
    }
}
