package io.trisync.search;

import io.trisync.embedding.Chunker;
import io.trisync.failure.Failure;
import io.trisync.store.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The request of {@link SearchAddresses#QUERY}, with its wire form and its checks in one place. */
public final class SearchMessages {

    static final int MAX_QUERY_CHARS = 2000;
    static final int MAX_LIMIT = 100;
    private static final Pattern MIME =
            Pattern.compile("[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}");

    private SearchMessages() {}

    /**
     * A tenant's semantic search: {@code query} text, at most {@code limit} files (one result each),
     * narrowed to {@code fileIds} and {@code contentTypes} when given (null: all). The constructor
     * refuses a bad value naming its field (400).
     */
    public record SearchRequest(
            String tenantId, String query, int limit, List<String> fileIds, List<String> contentTypes) {

        public SearchRequest {
            Ids.require("user_id", tenantId);
            if (query == null || query.isBlank()) {
                throw new Failure.BadRequest("query is required and must not be blank");
            }
            if (query.codePointCount(0, query.length()) > MAX_QUERY_CHARS) {
                throw new Failure.BadRequest("query is longer than " + MAX_QUERY_CHARS + " characters");
            }
            if (!Chunker.readable(query)) {
                // The model makes no token of it (the local one refused it, answered 500).
                throw new Failure.BadRequest("query has nothing to search for: only spaces, control, formatting"
                        + " (zero-width) or combining characters");
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new Failure.BadRequest("limit must be between 1 and " + MAX_LIMIT);
            }
            if (fileIds != null) {
                if (fileIds.isEmpty() || fileIds.size() > 1000) {
                    throw new Failure.BadRequest("file_ids must list between 1 and 1000 ids");
                }
                for (int i = 0; i < fileIds.size(); i++) {
                    Ids.require("file_ids[" + i + "]", fileIds.get(i));
                }
                fileIds = List.copyOf(fileIds);
            }
            if (contentTypes != null) {
                if (contentTypes.isEmpty() || contentTypes.size() > 100) {
                    throw new Failure.BadRequest("content_types must list between 1 and 100 types");
                }
                for (int i = 0; i < contentTypes.size(); i++) {
                    String type = contentTypes.get(i);
                    if (type == null || !MIME.matcher(type).matches()) {
                        throw new Failure.BadRequest("content_types[" + i + "] is not a content type (type/subtype)");
                    }
                }
                contentTypes = List.copyOf(contentTypes);
            }
        }

        public JsonObject toJson() {
            return new JsonObject()
                    .put("tenantId", tenantId)
                    .put("query", query)
                    .put("limit", limit)
                    .put("fileIds", fileIds == null ? null : new JsonArray(fileIds))
                    .put("contentTypes", contentTypes == null ? null : new JsonArray(contentTypes));
        }

        public static SearchRequest fromJson(JsonObject json) {
            return new SearchRequest(
                    json.getString("tenantId"),
                    json.getString("query"),
                    json.getInteger("limit", 10),
                    strings(json.getJsonArray("fileIds"), "file_ids"),
                    strings(json.getJsonArray("contentTypes"), "content_types"));
        }

        /** The strings of {@code array} (null stays null); another element is a 400 naming {@code field}. */
        public static List<String> strings(JsonArray array, String field) {
            if (array == null) {
                return null;
            }
            List<String> out = new ArrayList<>(array.size());
            for (int i = 0; i < array.size(); i++) {
                if (!(array.getValue(i) instanceof String s)) {
                    throw new Failure.BadRequest(field + "[" + i + "] must be a string");
                }
                out.add(s);
            }
            return out;
        }
    }

    /** One hit a search returns: a chunk of a file whose three stores agree. */
    public record SearchHit(
            String fileId,
            String fileName,
            double score,
            int chunk,
            String text,
            String contentType,
            String updatedAt) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("file_id", fileId)
                    .put("file_name", fileName)
                    .put("score", score)
                    .put("chunk", chunk)
                    .put("text", text)
                    .put("content_type", contentType)
                    .put("updated_at", updatedAt);
        }
    }

    /** Where a search's time went, in milliseconds. */
    public record SearchTimings(
            double embed, double vectorSearch, double consistencyCheck, double records, double blobs) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("embed", embed)
                    .put("vector_search", vectorSearch)
                    .put("consistency_check", consistencyCheck)
                    .put("records", records)
                    .put("blobs", blobs);
        }
    }

    /** A search's answer: the consistent hits in score order, how many were left out, and its timings. */
    public record SearchReply(
            List<SearchHit> results, int excluded, long tookMs, SearchTimings timings, int blobsChecked) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put(
                            "results",
                            new JsonArray(
                                    results.stream().map(SearchHit::toJson).toList()))
                    .put("excluded", excluded)
                    .put("took_ms", tookMs)
                    .put("timings_ms", timings.toJson())
                    .put("blobs_checked", blobsChecked);
        }
    }
}
