package io.trisync.scan;

import io.trisync.events.EventPublisher.Draft;
import io.trisync.events.EventTypes;
import io.trisync.store.IssueRecord;
import io.vertx.core.json.JsonObject;

/**
 * The events an issue's life publishes, with their payloads in one place: {@code
 * sync.issue_detected} ({@code {type, fileName, description, suggestedAction, details}}) when a scan
 * or a search first records it, {@code sync.issue_resolved} ({@code {type}}) when a scan no longer
 * finds it.
 */
public final class IssueEvents {

    public static final String TYPE = "type";
    public static final String FILE_NAME = "fileName";
    public static final String DESCRIPTION = "description";
    public static final String SUGGESTED_ACTION = "suggestedAction";
    public static final String DETAILS = "details";

    private IssueEvents() {}

    /** {@code issue} newly recorded, under operation {@code opId} (null for a search's). */
    public static Draft detected(IssueRecord issue, String opId) {
        IssueType type = IssueType.valueOf(issue.type());
        return new Draft(
                EventTypes.ISSUE_DETECTED,
                issue.fileId(),
                opId,
                new JsonObject()
                        .put(TYPE, type.name())
                        .put(FILE_NAME, issue.fileName())
                        .put(DESCRIPTION, type.description())
                        .put(SUGGESTED_ACTION, type.suggestedAction())
                        .put(DETAILS, issue.details()));
    }

    /** {@code issue} no longer found by the scan {@code opId}. */
    public static Draft resolved(IssueRecord issue, String opId) {
        return new Draft(EventTypes.ISSUE_RESOLVED, issue.fileId(), opId, new JsonObject().put(TYPE, issue.type()));
    }
}
