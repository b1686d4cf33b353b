package io.trisync.embedded.qdrant;

import io.grpc.Status;
import io.qdrant.client.grpc.Common.PointId;
import java.util.UUID;

/**
 * A point id as Qdrant orders it: every numeric id before every UUID, numbers by value, UUIDs by
 * their canonical (lowercase, hyphenated) text, which is their byte order.
 */
record PointKey(long num, String uuid) implements Comparable<PointKey> {

    static PointKey of(PointId id) {
        return switch (id.getPointIdOptionsCase()) {
            case NUM -> new PointKey(id.getNum(), null);
            case UUID -> new PointKey(0, canonicalUuid(id.getUuid()));
            default -> throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: point id is empty")
                    .asRuntimeException();
        };
    }

    PointId toProto() {
        return uuid == null
                ? PointId.newBuilder().setNum(num).build()
                : PointId.newBuilder().setUuid(uuid).build();
    }

    @Override
    public int compareTo(PointKey other) {
        if (uuid == null && other.uuid == null) {
            return Long.compareUnsigned(num, other.num);
        }
        if (uuid == null) {
            return -1;
        }
        if (other.uuid == null) {
            return 1;
        }
        return uuid.compareTo(other.uuid);
    }

    private static String canonicalUuid(String text) {
        String candidate = text.trim();
        if (candidate.length() == 32 && candidate.indexOf('-') < 0) {
            candidate = candidate.substring(0, 8) + "-" + candidate.substring(8, 12) + "-" + candidate.substring(12, 16)
                    + "-" + candidate.substring(16, 20) + "-" + candidate.substring(20);
        }
        try {
            if (candidate.length() != 36) {
                throw new IllegalArgumentException();
            }
            return UUID.fromString(candidate).toString();
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("Wrong input: Unable to parse UUID: " + text)
                    .asRuntimeException();
        }
    }
}
