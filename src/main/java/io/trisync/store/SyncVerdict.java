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

    public SyncVerdict {
        issues = issues == null ? List.of() : List.copyOf(issues);
    }

    /** Why a repair left the file to a person: the reason, the issues it could not fix, when, in which operation. */
    public record Attention(String reason, List<String> issues, String at, String opId) {

        public Attention {
            issues = issues == null ? List.of() : List.copyOf(issues);
        }

        JsonObject toDocument() {
            return new JsonObject()
                    .put("reason", reason)
                    .put("issues", new JsonArray(issues))
                    .put("at", at)
                    .put("opId", opId);
        }

        static Attention fromDocument(JsonObject d) {
            return d == null
                    ? null
                    : new Attention(
                            d.getString("reason"),
                            strings(d.getJsonArray("issues")),
                            d.getString("at"),
                            d.getString("opId"));
        }
    }

    /** The record's {@code sync} document as a verdict; null when the file was never checked. */
    public static SyncVerdict fromDocument(JsonObject d) {
        return d == null
                ? null
                : new SyncVerdict(
                        d.getString("verdict"),
                        strings(d.getJsonArray("issues")),
                        d.getString("checkedAt"),
                        d.getString("opId"),
                        Attention.fromDocument(d.getJsonObject("attention")));
    }

    public JsonObject toDocument() {
        JsonObject d = new JsonObject()
                .put("verdict", verdict)
                .put("issues", new JsonArray(issues))
                .put("checkedAt", checkedAt)
                .put("opId", opId);
        if (attention != null) {
            d.put("attention", attention.toDocument());
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
            f.put("verdict", verdict);
            if (issues != null) {
                f.put("issues", new JsonArray(issues));
            }
            if (checkedAt != null) {
                f.put("checkedAt", checkedAt);
            }
            if (opId != null) {
                f.put("opId", opId);
            }
            if (attention != null) {
                f.put("attention", attention.toDocument());
            } else if (clearAttention) {
                f.put("attention", null);
            }
            return f;
        }
    }
}
