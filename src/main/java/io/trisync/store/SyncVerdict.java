package io.trisync.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last check of a file, kept on its record (the {@code sync} field of {@code files}): the verdict
 * ({@code synced}, {@code out_of_sync}, {@code missing}, {@code error}), the issue types found, when
 * and by which operation, and, when a repair left the file to a person, why ({@link Attention}).
 * Written by scans (the verdict) and repairs (the verdict after a repair, or the attention).
 */
public record SyncVerdict(String verdict, List<String> issues, String checkedAt, String opId, Attention attention) {

    /** The {@code sync} document's field names. */
    public static final String VERDICT = "verdict";

    public static final String ISSUES = "issues";
    public static final String CHECKED_AT = "checkedAt";
    public static final String OP_ID = "opId";
    public static final String ATTENTION = "attention";

    public SyncVerdict {
        issues = issues == null ? List.of() : List.copyOf(issues);
    }

    /** Why a repair left the file to a person: the reason, the issues it could not fix, when, in which operation. */
    public record Attention(String reason, List<String> issues, String at, String opId) {

        /** The attention document's field names ({@link SyncVerdict#ISSUES} and {@link SyncVerdict#OP_ID} too). */
        public static final String REASON = "reason";

        public static final String AT = "at";

        public Attention {
            issues = issues == null ? List.of() : List.copyOf(issues);
        }

        JsonObject toDocument() {
            return new JsonObject()
                    .put(Attention.REASON, reason)
                    .put(ISSUES, new JsonArray(issues))
                    .put(Attention.AT, at)
                    .put(OP_ID, opId);
        }

        static Attention fromDocument(JsonObject d) {
            return d == null
                    ? null
                    : new Attention(
                            d.getString(Attention.REASON),
                            strings(d.getJsonArray(ISSUES)),
                            d.getString(Attention.AT),
                            d.getString(OP_ID));
        }
    }

    /** The record's {@code sync} document as a verdict; null when the file was never checked. */
    public static SyncVerdict fromDocument(JsonObject d) {
        return d == null
                ? null
                : new SyncVerdict(
                        d.getString(VERDICT),
                        strings(d.getJsonArray(ISSUES)),
                        d.getString(CHECKED_AT),
                        d.getString(OP_ID),
                        Attention.fromDocument(d.getJsonObject(ATTENTION)));
    }

    public JsonObject toDocument() {
        JsonObject d = new JsonObject()
                .put(VERDICT, verdict)
                .put(ISSUES, new JsonArray(issues))
                .put(CHECKED_AT, checkedAt)
                .put(OP_ID, opId);
        if (attention != null) {
            d.put(ATTENTION, attention.toDocument());
        }
        return d;
    }

    /** Why a repair left the file to a person; null when nobody is needed. */
    public String attentionReason() {
        return attention == null ? null : attention.reason();
    }

    private static List<String> strings(JsonArray a) {
        return a == null ? List.of() : a.stream().map(String::valueOf).toList();
    }

    /**
     * A change to a file's verdict: the fields given are set, the others kept; {@code clearAttention}
     * removes the attention (a file that is whole again needs nobody).
     */
    public record Change(
            String verdict,
            List<String> issues,
            String checkedAt,
            String opId,
            Attention attention,
            boolean clearAttention) {

        /** What a check found (a scan, or a repair checking its work). */
        public static Change checked(
                String verdict, List<String> issues, String checkedAt, String opId, boolean clearAttention) {
            return new Change(verdict, issues, checkedAt, opId, null, clearAttention);
        }

        /** A repair leaves the file to a person: verdict {@code error} with the reason; the rest kept. */
        public static Change leftToPerson(Attention attention) {
            return new Change("error", null, null, null, attention, false);
        }

        /** The fields of {@code sync} to set (a null value: to remove), in a stable order. */
        public Map<String, Object> fields() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put(VERDICT, verdict);
            if (issues != null) {
                f.put(ISSUES, new JsonArray(issues));
            }
            if (checkedAt != null) {
                f.put(CHECKED_AT, checkedAt);
            }
            if (opId != null) {
                f.put(OP_ID, opId);
            }
            if (attention != null) {
                f.put(ATTENTION, attention.toDocument());
            } else if (clearAttention) {
                f.put(ATTENTION, null);
            }
            return f;
        }
    }
}
