package io.trisync.embedded.qdrant;

import io.qdrant.client.grpc.JsonWithInt.Value;
import java.util.Map;

/** One point as the embedded server holds it: its id, its (normalised for cosine) vector, its payload. */
record StoredPoint(PointKey id, float[] vector, Map<String, Value> payload) {}
