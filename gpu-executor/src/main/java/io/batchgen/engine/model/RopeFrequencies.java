package io.batchgen.engine.model;

/**
 * RoPE inverse frequencies for a config, computed as Hugging Face does, scaling included, and the
 * cos/sin tables built from them. Shared by every backend: it is part of the model's definition,
 * not a kernel. YaRN's attention factor is folded into the tables ({@code cos} and {@code sin}
 * both scaled, as HF's rotary embedding does), so backends only rotate.
 */
public final class RopeFrequencies {
  private final float[] invFreq; // (headDim / 2)
  private final float magnitude; // cos/sin scale: YaRN's attention factor, else 1
  private final ModelConfig.RopeStyle style;

  public RopeFrequencies(ModelConfig c) {
    int half = c.headDim() / 2;
    double[] base = new double[half];
    for (int i = 0; i < half; i++) {
      base[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
    }
    RopeScaling s = c.ropeScaling();
    double[] scaled = base;
    float mag = 1f;
    if (s instanceof RopeScaling.Linear l) {
      scaled = linear(base, l);
    } else if (s instanceof RopeScaling.Llama3 l) {
      scaled = llama3(base, l);
    } else if (s instanceof RopeScaling.Yarn y) {
      scaled = yarn(base, y, c.headDim(), c.ropeTheta());
      mag = (float) y.attentionFactor();
    }
    invFreq = new float[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = (float) scaled[i];
    }
    this.magnitude = mag;
    this.style = c.ropeStyle();
  }

  private static double[] linear(double[] base, RopeScaling.Linear s) {
    double[] out = new double[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = (float) base[i] / s.factor();
    }
    return out;
  }

  private static double[] llama3(double[] base, RopeScaling.Llama3 s) {
    double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
    double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
    double[] out = new double[base.length];
    for (int i = 0; i < base.length; i++) {
      double f = (float) base[i];
      double wavelen = 2 * Math.PI / f;
      double scaled = wavelen > lowWavelen ? f / s.factor() : f;
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
            / (s.highFreqFactor() - s.lowFreqFactor());
        scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
      }
      out[i] = scaled;
    }
    return out;
  }

  /**
   * YaRN: {@code inv = base/factor * ramp + base * (1 - ramp)}, where {@code ramp} rises linearly
   * from 0 at dimension pair {@code low} to 1 at {@code high}; {@code low} and {@code high} are the
   * pairs that turn {@code betaFast} and {@code betaSlow} times over the original context.
   */
  private static double[] yarn(double[] base, RopeScaling.Yarn s, int dim, double theta) {
    double low = correctionDim(s.betaFast(), dim, theta, s.originalMaxPositions());
    double high = correctionDim(s.betaSlow(), dim, theta, s.originalMaxPositions());
    if (s.truncate()) {
      low = Math.floor(low);
      high = Math.ceil(high);
    }
    low = Math.max(low, 0);
    high = Math.min(high, dim - 1);
    if (low == high) {
      high += 0.001; // as HF: avoids a zero-width ramp
    }
    double[] out = new double[base.length];
    for (int i = 0; i < base.length; i++) {
      double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      out[i] = base[i] / s.factor() * ramp + base[i] * (1 - ramp);
    }
    return out;
  }

  /** The dimension whose pair turns {@code rotations} times over {@code positions}. */
  private static double correctionDim(double rotations, int dim, double theta, int positions) {
    return dim * Math.log(positions / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
  }

  public ModelConfig.RopeStyle style() {
    return style;
  }

  /**
   * The inverse frequency of each dimension pair ({@code headDim / 2} values), scaling applied:
   * what a device kernel needs to build the same tables ({@link #cosSin}).
   */
  public float[] inverseFrequencies() {
    return invFreq.clone();
  }

  /** The cos/sin magnitude: YaRN's attention factor, 1 without YaRN. */
  public float magnitude() {
    return magnitude;
  }

  /**
   * Fills {@code cos[i]}, {@code sin[i]} for {@code i < headDim/2} at {@code position}, scaled by
   * {@link #magnitude()}.
   */
  public void cosSin(int position, float[] cos, float[] sin) {
    for (int i = 0; i < invFreq.length; i++) {
      float angle = position * invFreq[i];
      cos[i] = (float) Math.cos(angle) * magnitude;
      sin[i] = (float) Math.sin(angle) * magnitude;
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
