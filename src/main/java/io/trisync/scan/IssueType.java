package io.trisync.scan;

import java.util.Arrays;
import java.util.List;

/**
 * What can be wrong with one file across the three stores (docs/design.md, "Keys and partitions"), each with the action a
 * person or the repair planner should take.
 */
public enum IssueType {
    MISSING_BLOB(
            "The metadata is active but S3 holds no content",
            "Restore the content from a version or backup, or mark the file for re-upload"),
    MISSING_VECTORS(
            "The file has text chunks but Qdrant holds none of its vectors",
            "Re-extract and re-embed the content from S3"),
    MISSING_CHUNKS("Qdrant lacks the vectors of some chunks", "Re-embed the file and upsert every chunk"),
    EXTRA_CHUNKS("Qdrant holds vectors for chunks the file no longer has", "Delete the points of the extra chunks"),
    SIZE_MISMATCH(
            "The content's size differs from the size recorded in the metadata",
            "Compare with known versions; fix the metadata or mark the file for a person"),
    CHECKSUM_MISMATCH(
            "The content's sha256 differs from the one recorded in the metadata",
            "Compare with known versions; fix the metadata or mark the file for a person"),
    STALE_VECTORS(
            "The vectors were made from other content or another model", "Re-embed the file from its current content"),
    ORPHAN_BLOB(
            "S3 holds content with no metadata record",
            "When details.restore names the file's committed upload (its bytes are the upload's), rebuild the record"
                    + " from it; otherwise (details.restore.refused says why) move the object to quarantine"),
    ORPHAN_VECTORS(
            "Qdrant holds vectors of a file with no metadata record",
            "Keep them when the file's record is rebuilt (see its ORPHAN_BLOB); otherwise delete the points (they"
                    + " can be rebuilt)"),
    DELETE_INCOMPLETE(
            "The file is deleted but its content or vectors remain",
            "Finish the delete: quarantine the blob, delete the points"),
    EMBEDDING_FAILED(
            "Text extraction failed: the content is stored but has no vectors, so it is not searchable",
            "Check the file, re-upload a readable version (and delete this one), or accept it without search"
                    + " (the issue then stays open)"),
    UNREADABLE_RECORD(
            "MongoDB holds a record of the file that cannot be read (the field named in details holds a value this"
                    + " service never writes): it is left out of search, its content and vectors are not judged",
            "Correct or remove the record in MongoDB by hand (a repair leaves it to a person), then scan again");

    private final String description;
    private final String suggestedAction;

    IssueType(String description, String suggestedAction) {
        this.description = description;
        this.suggestedAction = suggestedAction;
    }

    public String description() {
        return description;
    }

    public String suggestedAction() {
        return suggestedAction;
    }

    /**
     * Whether only the content's bytes can show this issue gone: a checksum mismatch may lie in bytes
     * changed under intact {@code sha256} metadata, which a HEAD cannot tell (a deep scan finds it by
     * hashing). Every other issue is seen, present or absent, from the listings and the metadata.
     */
    public boolean needsContent() {
        return this == CHECKSUM_MISMATCH;
    }

    /** The names of the types only a file's bytes show: those a scan that reads no bytes cannot see. */
    public static List<String> contentOnly() {
        return Arrays.stream(values())
                .filter(IssueType::needsContent)
                .map(Enum::name)
                .toList();
    }
}
