package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Small {@code $group} aggregations (a few dozen groups at most, answered in the command's first batch). */
final class MongoGroups {

    private MongoGroups() {}

    /**
     * The documents of {@code collection} matching {@code match}, grouped by {@code field} with {@code
     * accumulator} (for example {@code {"$sum": 1}}): each group's value, keyed by the field's value
     * (a missing field under {@code null}).
     */
    static Future<Map<String, Object>> group(
            MongoClient client, String collection, JsonObject match, String field, JsonObject accumulator) {
        JsonArray pipeline = new JsonArray()
                .add(new JsonObject().put("$match", match))
                .add(new JsonObject()
                        .put("$group", new JsonObject().put("_id", "$" + field).put("v", accumulator)));
        JsonObject command = new JsonObject()
                .put("aggregate", collection)
                .put("pipeline", pipeline)
                .put("cursor", new JsonObject().put("batchSize", 1000));
        return client.runCommand("aggregate", command)
                .recover(MongoErrors::failed)
                .map(answer -> {
                    Map<String, Object> out = new HashMap<>();
                    for (Object o : answer.getJsonObject("cursor").getJsonArray("firstBatch")) {
                        JsonObject row = (JsonObject) o;
                        Object key = row.getValue("_id");
                        out.put(key == null ? null : String.valueOf(key), row.getValue("v"));
                    }
                    return out;
                });
    }

    /** How many documents of {@code collection} match {@code match}, by the value of {@code field}. */
    static Future<Map<String, Long>> count(MongoClient client, String collection, JsonObject match, String field) {
        return group(client, collection, match, field, new JsonObject().put("$sum", 1))
                .map(groups -> {
                    Map<String, Long> out = new HashMap<>();
                    groups.forEach((k, v) -> out.put(k, ((Number) v).longValue()));
                    return out;
                });
    }

    /** The distinct values of {@code field} among the documents of {@code collection} matching {@code query}. */
    static Future<Set<String>> values(MongoClient client, String collection, JsonObject query, String field) {
        return client.find(collection, query)
                .recover(MongoErrors::<List<JsonObject>>failed)
                .map(docs -> {
                    Set<String> out = new HashSet<>();
                    docs.forEach(d -> out.add(d.getString(field)));
                    return out;
                });
    }
}
