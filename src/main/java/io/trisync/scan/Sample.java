package io.trisync.scan;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A uniform random sample of files for a quick check, decided file by file without coordination:
 * a file is in the sample when the hash of (seed, file id) falls below {@code rate}. With a fresh
 * random seed per scan this is a Bernoulli sample (each file independently with probability {@code
 * rate}), so partitions scanned on different nodes draw from the same sample. Pure.
 */
public record Sample(long seed, double rate) {

    public Sample {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("rate must be within [0, 1]: " + rate);
        }
    }

    /** A sample expected to hold {@code size} of {@code population} files. */
    public static Sample of(long seed, long size, long population) {
        return new Sample(seed, population <= 0 ? 1 : Math.min(1.0, (double) size / population));
    }

    public boolean contains(String fileId) {
        if (rate >= 1) {
            return true;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(ByteBuffer.allocate(8).putLong(seed).array());
            byte[] digest = sha.digest(fileId.getBytes(StandardCharsets.UTF_8));
            long bits = ByteBuffer.wrap(digest).getLong() >>> 11;
            return bits * 0x1.0p-53 < rate;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the JVM specification", e);
        }
    }

    /** A proportion estimated from a sample, with its 95% confidence interval. */
    public record Estimate(long sampled, long inconsistent, double rate, double low, double high) {}

    /**
     * The Wilson score interval (95%) for {@code inconsistent} of {@code sampled}: unlike the normal
     * approximation it stays within [0, 1] and is sound for rates near 0, which is where a healthy
     * tenant sits.
     */
    public static Estimate estimate(long sampled, long inconsistent) {
        if (sampled == 0) {
            return new Estimate(0, 0, 0, 0, 1);
        }
        double z = 1.959963984540054;
        double n = sampled;
        double p = inconsistent / n;
        double z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return new Estimate(sampled, inconsistent, p, Math.max(0, centre - half), Math.min(1, centre + half));
    }
}
