package io.trisync.search;

import io.trisync.scan.IssueType;
import io.trisync.store.ChunkPoint;
import io.vertx.core.json.JsonObject;

/** Why a search left a candidate out: the issue it is, and what was found. */
record Excluded(ChunkPoint point, IssueType type, JsonObject details) {}
