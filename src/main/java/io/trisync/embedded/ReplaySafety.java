package io.trisync.embedded;

import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which write commands the embedded MongoDB's journal could not replay exactly: those whose effect
 * depends on the moment or on the server rather than on the command and the state before it. A
 * journaled command is applied again after a crash, so such a command would come back different
 * from what its client was told; {@link DurableH2Backend} refuses it instead, with the reason.
 *
 * <ul>
 *   <li>{@code $currentDate} and pipeline updates (which may read {@code $$NOW}): the time of the
 *       replay, not of the write;
 *   <li>an upsert whose filter does not fix {@code _id}: the server makes the new document's id,
 *       and would make another at replay.
 * </ul>
 *
 * Inserts are safe: the drivers give a document without {@code _id} one before sending it.
 */
final class ReplaySafety {

    private ReplaySafety() {}

    /** Why {@code command} could not be replayed exactly; null when it can. */
    static String unsafe(String command, Document query) {
        switch (command.toLowerCase(Locale.ROOT)) {
            case "update" -> {
                if (query.get("updates") instanceof List<?> updates) {
                    for (Object entry : updates) {
                        if (entry instanceof Document u) {
                            String why = unsafeUpdate(u.get("u"), u.get("q"), Boolean.TRUE.equals(u.get("upsert")));
                            if (why != null) {
                                return why;
                            }
                        }
                    }
                }
                return null;
            }
            case "findandmodify" -> {
                return unsafeUpdate(query.get("update"), query.get("query"), Boolean.TRUE.equals(query.get("upsert")));
            }
            default -> {
                return null;
            }
        }
    }

    private static String unsafeUpdate(Object update, Object filter, boolean upsert) {
        if (update instanceof List<?>) {
            return "a pipeline update may read $$NOW, which a replay after a crash would read anew";
        }
        if (update instanceof Document u && u.containsKey("$currentDate")) {
            return "$currentDate sets the time of the write, which a replay after a crash would set anew;"
                    + " send the date from the client";
        }
        if (upsert && !fixesId(filter)) {
            return "an upsert whose filter does not fix _id gets an id made by the server, which a replay"
                    + " after a crash would make anew; put the _id in the filter";
        }
        return null;
    }

    /** Whether {@code filter} gives {@code _id} one value (equality, not an operator). */
    private static boolean fixesId(Object filter) {
        if (!(filter instanceof Document f) || !f.containsKey("_id")) {
            return false;
        }
        Object id = f.get("_id");
        if (id instanceof Document d) {
            return d.keySet().stream().noneMatch(k -> k.startsWith("$"))
                    || d.keySet().equals(Set.of("$eq"));
        }
        return id != null;
    }
}
