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
    ModelConfig scaled = config(new RopeScaling("llama3", 8, 1, 4, 8192),
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
