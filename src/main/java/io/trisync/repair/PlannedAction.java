package io.trisync.repair;

import io.trisync.scan.IssueType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** One step of a repair plan: the action, the issues of one file it fixes, and where the file lives. */
public record PlannedAction(
        RepairAction action, List<IssueType> fixes, String tenantId, int partition, String fileId, String fileName) {

    public PlannedAction {
        fixes = List.copyOf(fixes);
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("action", action.name())
                .put("issues", new JsonArray(fixes.stream().map(Enum::name).toList()))
                .put("user_id", tenantId)
                .put("file_id", fileId)
                .put("file_name", fileName)
                .put("store", action.store())
                .put("reversible", action.reversible())
                .put("description", action.description())
                .put("undo", action.undo());
    }

    static PlannedAction fromJson(JsonObject json, int partition) {
        return new PlannedAction(
                RepairAction.valueOf(json.getString("action")),
                json.getJsonArray("issues").stream()
                        .map(v -> IssueType.valueOf((String) v))
                        .toList(),
                json.getString("user_id"),
                partition,
                json.getString("file_id"),
                json.getString("file_name"));
    }
}
