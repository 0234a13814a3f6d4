package io.batchgen.core.rebalance;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.runtime.RuntimeMetrics;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadEstimatorTest {
  private static final long S = 1_000_000_000L;

  /**
   * A runtime with {@code live} running sequences that generated {@code liveGenerated} tokens
   * and may generate {@code bound} more, after sequences that stopped by themselves generated
   * {@code completedGenerated} of their {@code completedBound}.
   */
  private static RuntimeMetrics metrics(long generated, long prefill, int live, long bound,
      long liveGenerated, long completedGenerated, long completedBound) {
    return new RuntimeMetrics(generated, prefill, completedBound == 0 ? 0 : 1, Map.of(),
        Map.of(), Map.of(), Map.of(), 0, 0, 0, 0, 0, 0, 0, live, 0, 10, bound, 300,
        liveGenerated, completedGenerated, completedBound);
  }

  @Test
  void beforeAnySequenceStoppedEverySequenceIsExpectedToUseItsWholeBound() {
    assertThat(LoadEstimator.expectedNewTokens(metrics(0, 0, 4, 1000, 0, 0, 0))).isEqualTo(1000);
  }

  @Test
  void sequencesAreExpectedToUseTheShareOfTheirBoundThatFinishedOnesUsed() {
    // Finished rows used a quarter of their bounds; the 4 live ones have 1,000 + 200 in all
    // and generated 200: a quarter of 1,200 is 300, 100 more.
    assertThat(LoadEstimator.expectedNewTokens(metrics(0, 0, 4, 1000, 200, 64, 256)))
        .isEqualTo(100);
    // Rows that stop at their bound (max_new_tokens set to each row's length): exact.
    assertThat(LoadEstimator.expectedNewTokens(metrics(0, 0, 4, 1000, 200, 900, 900)))
        .isEqualTo(1000);
  }

  @Test
  void liveSequencesPastTheExpectationStillNeedATokenEachAndNeverMoreThanTheirBound() {
    assertThat(LoadEstimator.expectedNewTokens(metrics(0, 0, 4, 1000, 900, 10, 1000)))
        .isEqualTo(4);
    assertThat(LoadEstimator.expectedNewTokens(metrics(0, 0, 4, 1000, 0, 3000, 1000)))
        .isEqualTo(1000);
  }

  @Test
  void theLoadCarriesTheRuntimesQueuesWorkAndMeanCachedPositions() {
    LoadEstimator.Rate rate = new LoadEstimator.Rate();
    RuntimeMetrics m = metrics(0, 0, 4, 1000, 0, 0, 0);
    rate.observe(m, 0);
    ExecutorLoad l = LoadEstimator.estimate("e1", "spec", m, rate, 4096, 64, 1, 3);
    assertThat(l).isEqualTo(new ExecutorLoad("e1", "spec", 0, 4, 0, 10, 1000, 0, 0, 4096, 75,
        64, 1, 3));
    assertThat(l.work()).isEqualTo(1010);
    assertThat(l.movable()).as("4 held, 3 of them for other executors").isEqualTo(1);
  }

  @Test
  void rateIsTokensPerSecondBetweenObservationsSmoothedAndKeptWhileIdle() {
    LoadEstimator.Rate rate = new LoadEstimator.Rate();
    rate.observe(metrics(0, 0, 1, 0, 0, 0, 0), 0);
    assertThat(rate.tokensPerSecond()).isZero();
    rate.observe(metrics(100, 300, 1, 0, 0, 0, 0), 2 * S);
    assertThat(rate.tokensPerSecond()).isEqualTo(200);
    assertThat(rate.prefillPerSecond()).isEqualTo(150);
    rate.observe(metrics(200, 300, 1, 0, 0, 0, 0), 3 * S);
    assertThat(rate.tokensPerSecond()).isCloseTo(0.7 * 200 + 0.3 * 100, within());
    assertThat(rate.prefillPerSecond()).isEqualTo(150);
    double before = rate.tokensPerSecond();
    rate.observe(metrics(200, 300, 0, 0, 0, 0, 0), 10 * S);
    assertThat(rate.tokensPerSecond()).as("nothing ran: kept").isEqualTo(before);
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
