package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SampleTest {

    @Test
    @DisplayName("The sample holds about rate × population files, the same ones for the same seed, others for another")
    void bernoulli() {
        Sample sample = Sample.of(42, 1_000, 100_000);
        assertThat(sample.rate()).isEqualTo(0.01);
        int in = 0;
        int again = 0;
        int other = 0;
        Sample reseeded = Sample.of(43, 1_000, 100_000);
        for (int i = 0; i < 100_000; i++) {
            String id = "file-" + i;
            if (sample.contains(id)) {
                in++;
                again += sample.contains(id) ? 1 : 0;
                other += reseeded.contains(id) ? 1 : 0;
            }
        }
        // Binomial(100000, 0.01): mean 1000, sd ~31.5; 5 sd either side.
        assertThat(in).isBetween(840, 1160);
        assertThat(again).isEqualTo(in);
        assertThat(other).as("another seed draws another sample").isLessThan(60);
        assertThat(Sample.of(1, 10, 5).rate()).isEqualTo(1.0);
        assertThat(Sample.of(1, 10, 5).contains("anything")).isTrue();
    }

    @Test
    @DisplayName("Wilson interval: known values, within [0, 1], and it covers the true rate about 95% of the time")
    void wilson() {
        Sample.Estimate e = Sample.estimate(100, 10);
        assertThat(e.rate()).isEqualTo(0.1);
        assertThat(e.low()).isCloseTo(0.0552, within(0.0005));
        assertThat(e.high()).isCloseTo(0.1744, within(0.0005));
        Sample.Estimate none = Sample.estimate(384, 0);
        assertThat(none.low()).isCloseTo(0.0, within(1e-12));
        assertThat(none.high()).isCloseTo(0.0099, within(0.0005));
        Sample.Estimate all = Sample.estimate(50, 50);
        assertThat(all.high()).isCloseTo(1.0, within(1e-12));
        assertThat(all.low()).isGreaterThan(0.9);

        Random random = new Random(7);
        double truth = 0.03;
        int covered = 0;
        int rounds = 2_000;
        for (int r = 0; r < rounds; r++) {
            int bad = 0;
            for (int i = 0; i < 400; i++) {
                bad += random.nextDouble() < truth ? 1 : 0;
            }
            Sample.Estimate x = Sample.estimate(400, bad);
            covered += x.low() <= truth && truth <= x.high() ? 1 : 0;
        }
        assertThat(covered / (double) rounds).isBetween(0.93, 0.97);
    }
}
