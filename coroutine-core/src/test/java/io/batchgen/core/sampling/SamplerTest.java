package io.batchgen.core.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {
  private final Sampler sampler = new Sampler();

  private static float[] logits(double... probs) {
    float[] l = new float[probs.length];
    for (int i = 0; i < probs.length; i++) {
      l[i] = (float) Math.log(probs[i]);
    }
    return l;
  }

  @Test
  void greedyIsArgmaxWithTiesToTheLowerId() {
    float[] l = {0.5f, 2f, 2f, -1f};
    assertThat(sampler.sample(l, 0, 4, SamplingParams.greedy(1), 0)).isEqualTo(1);
    assertThat(sampler.sample(l, 0, 4, SamplingParams.seeded(1.0, 3, 1).withTopK(1), 5))
        .isEqualTo(1);
    float[] padded = {9f, 9f, 0.5f, 2f, 3f, -1f};
    assertThat(sampler.sample(padded, 2, 4, SamplingParams.greedy(1), 0)).isEqualTo(2);
  }

  @Test
  void seededDrawsAreAPureFunctionOfSeedAndStep() {
    float[] l = logits(0.25, 0.25, 0.25, 0.25);
    SamplingParams p = SamplingParams.seeded(1.0, 99, 10);
    Set<Integer> seen = new HashSet<>();
    for (int step = 0; step < 40; step++) {
      int a = sampler.sample(l, 0, 4, p, step);
      // A different sampler (another batch, another runtime) gives the same token.
      assertThat(new Sampler().sample(l, 0, 4, p, step)).isEqualTo(a);
      seen.add(a);
    }
    assertThat(seen).hasSizeGreaterThan(2);
    assertThat(Sampler.uniform(99, 3)).isNotEqualTo(Sampler.uniform(100, 3))
        .isNotEqualTo(Sampler.uniform(99, 4));
  }

  @Test
  void frequenciesFollowTheSoftmax() {
    float[] l = logits(0.5, 0.3, 0.2);
    int[] counts = new int[3];
    int n = 20000;
    for (int step = 0; step < n; step++) {
      counts[sampler.sample(l, 0, 3, SamplingParams.seeded(1.0, 7, 1), step)]++;
    }
    assertThat(counts[0] / (double) n).isBetween(0.48, 0.52);
    assertThat(counts[1] / (double) n).isBetween(0.28, 0.32);
    assertThat(counts[2] / (double) n).isBetween(0.18, 0.22);
  }

  @Test
  void lowTemperatureSharpensTheDistribution() {
    float[] l = logits(0.5, 0.3, 0.2);
    int top = 0;
    for (int step = 0; step < 2000; step++) {
      top += sampler.sample(l, 0, 3, SamplingParams.seeded(0.1, 7, 1), step) == 0 ? 1 : 0;
    }
    assertThat(top).isGreaterThan(1980);
  }

  @Test
  void topKTopPAndMinPOnlyEverDrawAllowedTokens() {
    float[] l = logits(0.4, 0.3, 0.15, 0.1, 0.05);
    Set<Integer> topK = new HashSet<>();
    Set<Integer> topP = new HashSet<>();
    Set<Integer> minP = new HashSet<>();
    for (int step = 0; step < 3000; step++) {
      SamplingParams base = SamplingParams.seeded(1.0, 5, 1);
      topK.add(sampler.sample(l, 0, 5, base.withTopK(2), step));
      topP.add(sampler.sample(l, 0, 5, base.withTopP(0.8), step));
      minP.add(sampler.sample(l, 0, 5, base.withMinP(0.3), step));
    }
    assertThat(topK).containsExactlyInAnyOrder(0, 1);
    // 0.4 + 0.3 < 0.8 <= 0.4 + 0.3 + 0.15
    assertThat(topP).containsExactlyInAnyOrder(0, 1, 2);
    // at least 0.3 * 0.4 = 0.12
    assertThat(minP).containsExactlyInAnyOrder(0, 1, 2);
  }

  @Test
  void topKSelectionMatchesAFullSortOnLargeVocabularies() {
    java.util.Random r = new java.util.Random(3);
    float[] l = new float[5000];
    for (int i = 0; i < l.length; i++) {
      l[i] = (float) r.nextGaussian() * 2;
    }
    Integer[] ids = new Integer[l.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
    }
    java.util.Arrays.sort(ids, (a, b) -> Float.compare(l[b], l[a]));
    Set<Integer> allowed = Set.of(ids[0], ids[1], ids[2], ids[3], ids[4]);
    Set<Integer> drawn = new HashSet<>();
    for (int step = 0; step < 2000; step++) {
      drawn.add(sampler.sample(l, 0, l.length, SamplingParams.seeded(3.0, 1, 1).withTopK(5),
          step));
    }
    assertThat(drawn).isEqualTo(allowed);
  }

  @Test
  void nanLogitsAreReported() {
    float[] l = {Float.NaN, Float.NaN};
    assertThatThrownBy(() -> sampler.sample(l, 0, 2, SamplingParams.seeded(1, 1, 1), 0))
        .hasMessageContaining("NaN");
  }

  @Test
  void invalidParametersNameTheField() {
    assertThatThrownBy(() -> SamplingParams.greedy(4).withTopP(0))
        .hasMessageContaining("topP");
    assertThatThrownBy(() -> SamplingParams.greedy(0)).hasMessageContaining("maxNewTokens");
    assertThatThrownBy(() -> SamplingParams.seeded(-1, 1, 1)).hasMessageContaining("temperature");
  }
}
