package io.trisync.config;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The keys of a config file that no {@link ConfigKey} reads. Without this check a misspelt key
 * ({@code ingest.maxFileByte}) was ignored and its default used, so a setting seemed to have no
 * effect; now each is named with the known key it is closest to, when one is close.
 */
final class UnknownKeys {

    private UnknownKeys() {}

    /** {@code ingest.maxFileByte (did you mean ingest.maxFileBytes?)}, one per unknown key; empty when all are known. */
    static List<String> in(JsonObject file) {
        List<String> unknown = new ArrayList<>();
        collect("", file, unknown);
        return unknown.stream().map(UnknownKeys::describe).toList();
    }

    private static void collect(String prefix, JsonObject node, List<String> out) {
        for (String name : node.fieldNames()) {
            String path = prefix.isEmpty() ? name : prefix + "." + name;
            if (known(path)) {
                continue;
            }
            if (node.getValue(name) instanceof JsonObject section && !section.isEmpty()) {
                collect(path, section, out);
            } else {
                out.add(path);
            }
        }
    }

    private static boolean known(String path) {
        return ConfigKeys.ALL.stream().anyMatch(k -> k.path().equals(path));
    }

    private static String describe(String path) {
        String meant = closest(path);
        return meant == null ? path : path + " (did you mean " + meant + "?)";
    }

    /**
     * The known path within a few edits of {@code path} (letter case not counted), or the path of the
     * environment variable written as a key ({@code HTTP_PORT}); null when none is close.
     */
    static String closest(String path) {
        String leaf = path.substring(path.lastIndexOf('.') + 1);
        for (ConfigKey key : ConfigKeys.ALL) {
            if (key.env().equals(leaf)) {
                return key.path();
            }
        }
        String lower = path.toLowerCase(Locale.ROOT);
        int limit = Math.max(2, path.length() / 5);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (ConfigKey key : ConfigKeys.ALL) {
            int d = distance(lower, key.path().toLowerCase(Locale.ROOT));
            if (d <= limit && d < bestDistance) {
                best = key.path();
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
