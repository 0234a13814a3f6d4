package io.batchgen.engine.model;

/**
 * A RoPE scaling config: {@code rope_scaling} in config.json, {@code <arch>.rope.scaling.*} in
 * GGUF. Each kind is a record with exactly its own parameters; {@link RopeFrequencies} turns it
 * into inverse frequencies (and, for YaRN, a cos/sin magnitude).
 */
public sealed interface RopeScaling {

  /** The Hugging Face {@code rope_type} name. */
  String type();

  /** Every frequency divided by {@code factor} (position interpolation). */
  record Linear(double factor) implements RopeScaling {
    @Override
    public String type() {
      return "linear";
    }
  }

  /**
   * Llama 3.1: low frequencies divided by {@code factor}, high ones kept, a smooth blend between.
   *
   * @param originalMaxPositions {@code original_max_position_embeddings}
   */
  record Llama3(double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositions) implements RopeScaling {
    @Override
    public String type() {
      return "llama3";
    }
  }

  /**
   * YaRN (NTK-by-parts), as Hugging Face's {@code _compute_yarn_parameters} defines it: dimensions
   * that rotate more than {@code betaFast} times over the original context keep their frequency,
   * those rotating fewer than {@code betaSlow} times are divided by {@code factor}, a linear ramp
   * blends the ones between; cos and sin are multiplied by {@code attentionFactor}.
   *
   * @param originalMaxPositions the context the model was trained at
   * @param attentionFactor      the resolved cos/sin magnitude (config value, or the default
   *                             {@code 0.1 ln(factor) + 1})
   * @param truncate             round the ramp's ends to whole dimensions (HF default true)
   */
  record Yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow,
      double attentionFactor, boolean truncate) implements RopeScaling {
    @Override
    public String type() {
      return "yarn";
    }

    /** YaRN's magnitude correction {@code 0.1 * mscale * ln(scale) + 1}, 1 for scale <= 1. */
    public static double mscale(double scale, double mscale) {
      return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }
  }

  static RopeScaling linear(double factor) {
    return new Linear(factor);
  }
}
