package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RopeFrequenciesTest {

  static ModelConfig config(RopeScaling scaling, ModelConfig.RopeStyle style) {
    ModelConfig c = TinyModels.config("tiny", "llama");
    return new ModelConfig(c.arch(), c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
        c.numKvHeads(), 128, c.numExperts(), c.topK(), c.expertFfnSize(), c.normTopkProb(),
        c.sharedExpertFfnSize(), c.rmsEps(), 500000.0, scaling, style, c.qkNorm(),
        c.attentionBias(), c.clipQkv(), c.tieWordEmbeddings(), c.maxPositions(),
        c.eosTokenIds(), c.bosTokenId());
  }

  static float[] angles(ModelConfig c, int pos) {
    float[] cos = new float[64];
    float[] sin = new float[64];
    new RopeFrequencies(c).cosSin(pos, cos, sin);
    float[] a = new float[64];
    for (int i = 0; i < 64; i++) {
      a[i] = (float) Math.atan2(sin[i], cos[i]);
    }
    return a;
  }

  @Test
  void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
    ModelConfig plain = config(null, ModelConfig.RopeStyle.HALF);
    ModelConfig scaled = config(new RopeScaling.Llama3(8, 1, 4, 8192),
        ModelConfig.RopeStyle.HALF);
    float[] p = angles(plain, 1);
    float[] s = angles(scaled, 1);
    // i = 0: wavelength 2*pi, far below 8192/4: unchanged
    assertThat(s[0]).isEqualTo(p[0]);
    // i = 63: theta^(126/128) ~ 4e5 > 8192: divided by the factor
    assertThat((double) s[63]).isCloseTo(p[63] / 8.0, within(1e-9));
    // a medium frequency is interpolated between the two
    int i = 40; // wavelength 2*pi*500000^(80/128) ~ 23,600 > 8192: scaled
    assertThat((double) s[i]).isCloseTo(p[i] / 8.0, within(1e-7));
    int j = 30; // wavelength ~ 7,000: between 2048 and 8192, smoothed
    double wavelen = 2 * Math.PI * Math.pow(500000.0, 2.0 * j / 128);
    double smooth = (8192 / wavelen - 1) / (4 - 1);
    double expected = (1 - smooth) * p[j] / 8 + smooth * p[j];
    assertThat((double) s[j]).isCloseTo(expected, within(1e-6 * Math.abs(expected)));
  }

  /** Head dim 16, theta 10000: pair i has base frequency 10000^(-2i/16) = 10^(-i/2). */
  static ModelConfig small(RopeScaling scaling) {
    ModelConfig c = TinyModels.config("tiny", "llama");
    return new ModelConfig(c.arch(), c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
        c.numKvHeads(), 16, c.numExperts(), c.topK(), c.expertFfnSize(), c.normTopkProb(),
        c.sharedExpertFfnSize(), c.rmsEps(), 10000.0, scaling, ModelConfig.RopeStyle.HALF,
        c.qkNorm(), c.attentionBias(), c.clipQkv(), c.tieWordEmbeddings(), c.maxPositions(),
        c.eosTokenIds(), c.bosTokenId());
  }

  @Test
  void yarnRampsFromKeptToDividedFrequenciesAndScalesCosSin() {
    // factor 4, original context 64, beta_fast 32, beta_slow 1. The pair that turns r times over
    // 64 positions is d(r) = 16 ln(64 / (2 pi r)) / (2 ln 10000):
    //   d(32) = 16 ln(1/pi) / 18.4207 = -0.994 -> floor -1 -> clamped to low = 0
    //   d(1)  = 16 ln(10.186) / 18.4207 = 2.016 -> ceil -> high = 3
    // ramp(i) = clamp(i / 3, 0, 1); inv(i) = base(i) * (ramp / 4 + (1 - ramp)):
    //   i = 0: base, i = 1: base * (1/12 + 2/3) = 0.75 base, i = 2: base * (1/6 + 1/3) = 0.5 base,
    //   i >= 3: base / 4. Attention factor 0.1 ln 4 + 1 = 1.1386294.
    RopeScaling yarn = new RopeScaling.Yarn(4, 64, 32, 1, RopeScaling.Yarn.mscale(4, 1), true);
    double[] expected = new double[8];
    for (int i = 0; i < 8; i++) {
      double base = Math.pow(10, -i / 2.0);
      expected[i] = switch (i) {
        case 0 -> base;
        case 1 -> 0.75 * base;
        case 2 -> 0.5 * base;
        default -> base / 4;
      };
    }
    float[] cos = new float[8];
    float[] sin = new float[8];
    RopeFrequencies rope = new RopeFrequencies(small(yarn));
    assertThat((double) rope.magnitude()).isCloseTo(1.1386294, within(1e-6));
    rope.cosSin(1, cos, sin); // at position 1 the angle is the frequency itself
    for (int i = 0; i < 8; i++) {
      assertThat(Math.atan2(sin[i], cos[i])).as("pair " + i)
          .isCloseTo(expected[i], within(1e-6 * expected[i]));
      assertThat(Math.hypot(cos[i], sin[i])).isCloseTo(1.1386294, within(1e-6));
    }
    // without truncation the ramp runs from 0 to 2.016: pair 1 has ramp 1/2.016
    RopeScaling exact = new RopeScaling.Yarn(4, 64, 32, 1, 1.0, false);
    new RopeFrequencies(small(exact)).cosSin(1, cos, sin);
    double ramp = 1 / 2.0160002;
    assertThat(Math.atan2(sin[1], cos[1])).isCloseTo(
        Math.pow(10, -0.5) * (ramp / 4 + 1 - ramp), within(1e-7));
    assertThat(Math.atan2(sin[3], cos[3])).isCloseTo(Math.pow(10, -1.5) / 4, within(1e-9));
    assertThat(Math.hypot(cos[5], sin[5])).isCloseTo(1.0, within(1e-6));
  }

  @Test
  void withoutYarnTheTablesAreUnitLength() {
    float[] cos = new float[8];
    float[] sin = new float[8];
    RopeFrequencies rope = new RopeFrequencies(small(null));
    assertThat(rope.magnitude()).isEqualTo(1f);
    rope.cosSin(1000, cos, sin);
    for (int i = 0; i < 8; i++) {
      assertThat(Math.hypot(cos[i], sin[i])).isCloseTo(1.0, within(1e-6));
    }
  }

  @Test
  void linearScalingDividesEveryFrequency() {
    float[] p = angles(config(null, ModelConfig.RopeStyle.HALF), 3);
    float[] s = angles(config(RopeScaling.linear(4), ModelConfig.RopeStyle.HALF), 3);
    for (int i = 0; i < 64; i++) {
      assertThat((double) s[i]).isCloseTo(p[i] / 4.0, within(1e-6 + 1e-5 * Math.abs(p[i])));
    }
  }

  @Test
  void interleavedStyleRotatesAdjacentPairsLikeHalfStyleOnPermutedDims() {
    ModelConfig half = config(null, ModelConfig.RopeStyle.HALF);
    ModelConfig inter = config(null, ModelConfig.RopeStyle.INTERLEAVED);
    float[] cos = new float[64];
    float[] sin = new float[64];
    new RopeFrequencies(half).cosSin(17, cos, sin);
    float[] x = new float[128];
    for (int i = 0; i < 128; i++) {
      x[i] = (float) Math.sin(i * 0.37);
    }
    float[] permuted = new float[128]; // llama.cpp's Q/K row permutation for one head
    for (int i = 0; i < 64; i++) {
      permuted[2 * i] = x[i];
      permuted[2 * i + 1] = x[i + 64];
    }
    new RopeFrequencies(half).rotate(x, 0, 128, cos, sin);
    new RopeFrequencies(inter).rotate(permuted, 0, 128, cos, sin);
    for (int i = 0; i < 64; i++) {
      assertThat(permuted[2 * i]).isEqualTo(x[i]);
      assertThat(permuted[2 * i + 1]).isEqualTo(x[i + 64]);
    }
  }
}
