package io.trisync.repair;

import io.trisync.repair.Outcomes.Outcome;
import io.trisync.repair.Outcomes.Status;
import io.trisync.scan.IssueType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which of the issues a file's actions were for a repair closes (pure). An issue is closed only when
 * the check of the file after the actions can see that kind of issue and no longer finds it; one the
 * check cannot see (a checksum mismatch judged without reading the bytes) stays open, whatever its
 * action reported. So an action left to a person or failed never closes its issues on its own word,
 * and neither does one that looked done.
 *
 * @param resolved the issues to close, in the order the actions name them
 * @param remaining the issues left open, each with the reason in {@code reasons}
 */
record Resolution(List<IssueType> resolved, List<IssueType> remaining, Map<IssueType, String> reasons) {

    static final String STILL_PRESENT = "still present after the repair";
    static final String UNSEEN =
            "the check after the repair could not read the content to confirm it gone;" + " a deep scan decides";

    Resolution {
        resolved = List.copyOf(resolved);
        remaining = List.copyOf(remaining);
        reasons = Map.copyOf(reasons);
    }

    /**
     * Decides from the actions, their outcomes, the issue types the check after them found ({@code
     * present}) and which types that check can see absent ({@code seen}).
     */
    static Resolution decide(
            List<PlannedAction> actions, List<Outcome> outcomes, Set<IssueType> present, Predicate<IssueType> seen) {
        Set<IssueType> planned = new LinkedHashSet<>();
        actions.forEach(a -> planned.addAll(a.fixes()));
        Map<IssueType, String> unsettled = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            if (o.status() == Status.FAILED || o.status() == Status.LEFT_TO_PERSON) {
                o.action().fixes().forEach(t -> unsettled.putIfAbsent(t, o.reason()));
            }
        }
        List<IssueType> resolved = new ArrayList<>();
        List<IssueType> remaining = new ArrayList<>();
        Map<IssueType, String> reasons = new LinkedHashMap<>();
        for (IssueType t : planned) {
            if (!present.contains(t) && seen.test(t)) {
                resolved.add(t);
                continue;
            }
            remaining.add(t);
            String reason = unsettled.get(t);
            reasons.put(t, reason != null ? reason : present.contains(t) ? STILL_PRESENT : UNSEEN);
        }
        return new Resolution(resolved, remaining, reasons);
    }

    /**
     * Whether an action for {@code fixes} is still to be taken by what a check just before it found: one
     * of its issues is there, or is of a kind the check cannot see absent. Otherwise it is already resolved.
     */
    static boolean stillNeeded(Collection<IssueType> fixes, Set<IssueType> present, Predicate<IssueType> seen) {
        return fixes.stream().anyMatch(t -> present.contains(t) || !seen.test(t));
    }

    /** Whether a check must read the content to see every one of {@code issues} absent. */
    static boolean needsContent(Collection<IssueType> issues) {
        return issues.stream().anyMatch(IssueType::needsContent);
    }
}
