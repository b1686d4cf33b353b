package io.trisync.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster's state as the stores hold it, for the gauges: files by their latest verdict, open
 * issues by type, running operations by kind, and how long ago each tenant was last scanned, as
 * read {@code at}.
 */
public record StoreState(
        Map<String, Long> filesByVerdict,
        Map<String, Long> openIssuesByType,
        Map<String, Long> runningByKind,
        double driftRatio,
        double oldestScanAgeSeconds,
        long tenantsNeverScanned,
        Instant at) {

    /** The verdict of files no scan has checked yet. */
    public static final String UNCHECKED = "unchecked";

    /**
     * The state from counts. {@code filesByVerdict}: counts by verdict, {@link #UNCHECKED} among them;
     * every name in {@code verdicts} and {@code issueTypes} appears (0 when absent), so a series falls
     * to 0 instead of vanishing. {@code lastScans}: each tenant that has files, with its latest
     * completed scan's end (null: never scanned). Pure.
     */
    public static StoreState of(
            Map<String, Long> filesByVerdict,
            Iterable<String> verdicts,
            Map<String, Long> openIssuesByType,
            Iterable<String> issueTypes,
            Map<String, Long> runningByKind,
            Iterable<String> kinds,
            Map<String, Instant> lastScans,
            Instant now) {
        Map<String, Long> files = filled(filesByVerdict, verdicts);
        files.putIfAbsent(UNCHECKED, 0L);
        long checked = 0;
        long notSynced = 0;
        for (Map.Entry<String, Long> e : files.entrySet()) {
            if (e.getKey().equals(UNCHECKED)) {
                continue;
            }
            checked += e.getValue();
            if (!e.getKey().equals("synced")) {
                notSynced += e.getValue();
            }
        }
        // No tenant with a completed scan: no age to give (0 would read as "just scanned").
        double oldest = Double.NaN;
        long never = 0;
        for (Instant last : lastScans.values()) {
            if (last == null) {
                never++;
            } else {
                double age = Duration.between(last, now).toMillis() / 1000.0;
                oldest = Double.isNaN(oldest) ? age : Math.max(oldest, age);
            }
        }
        return new StoreState(
                files,
                filled(openIssuesByType, issueTypes),
                filled(runningByKind, kinds),
                checked == 0 ? 0 : (double) notSynced / checked,
                oldest,
                never,
                now);
    }

    private static Map<String, Long> filled(Map<String, Long> counts, Iterable<String> names) {
        Map<String, Long> out = new TreeMap<>(counts);
        names.forEach(name -> out.putIfAbsent(name, 0L));
        return out;
    }
}
