package io.batchgen.engine.model;

/**
 * RoPE inverse frequencies for a config, computed as Hugging Face does (float32), scaling
 * included. Shared by every backend: it is part of the model's definition, not a kernel.
 */
public final class RopeFrequencies {
  private final float[] invFreq; // (headDim / 2)
  private final ModelConfig.RopeStyle style;

  public RopeFrequencies(ModelConfig c) {
    int half = c.headDim() / 2;
    invFreq = new float[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim()));
    }
    RopeScaling s = c.ropeScaling();
    if (s != null && s.type().equals("linear")) {
      for (int i = 0; i < half; i++) {
        invFreq[i] = (float) (invFreq[i] / s.factor());
      }
    } else if (s != null && s.type().equals("llama3")) {
      double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
      double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
      for (int i = 0; i < half; i++) {
        double f = invFreq[i];
        double wavelen = 2 * Math.PI / f;
        double scaled = wavelen > lowWavelen ? f / s.factor() : f;
        if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
          double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
              / (s.highFreqFactor() - s.lowFreqFactor());
          scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
        }
        invFreq[i] = (float) scaled;
      }
    }
    this.style = c.ropeStyle();
  }

  public ModelConfig.RopeStyle style() {
    return style;
  }

  /** Fills {@code cos[i]}, {@code sin[i]} for {@code i < headDim/2} at {@code position}. */
  public void cosSin(int position, float[] cos, float[] sin) {
    for (int i = 0; i < invFreq.length; i++) {
      float angle = position * invFreq[i];
      cos[i] = (float) Math.cos(angle);
      sin[i] = (float) Math.sin(angle);
    }
  }

  /**
   * Rotates one head {@code x[off .. off + headDim)} in place with the given tables, using the
   * config's pairing.
   */
  public void rotate(float[] x, int off, int headDim, float[] cos, float[] sin) {
    int half = headDim / 2;
    if (style == ModelConfig.RopeStyle.HALF) {
      for (int i = 0; i < half; i++) {
        float a = x[off + i];
        float b = x[off + i + half];
        x[off + i] = a * cos[i] - b * sin[i];
        x[off + i + half] = b * cos[i] + a * sin[i];
      }
    } else {
      for (int i = 0; i < half; i++) {
        float a = x[off + 2 * i];
        float b = x[off + 2 * i + 1];
        x[off + 2 * i] = a * cos[i] - b * sin[i];
        x[off + 2 * i + 1] = b * cos[i] + a * sin[i];
      }
    }
  }
}
