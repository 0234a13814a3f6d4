package io.batchgen.engine.model;

/**
 * A RoPE scaling config ({@code rope_scaling} in config.json).
 *
 * @param type                  {@code linear} or {@code llama3}
 * @param factor                scaling factor
 * @param lowFreqFactor         llama3 only
 * @param highFreqFactor        llama3 only
 * @param originalMaxPositions  llama3 only: {@code original_max_position_embeddings}
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
    int originalMaxPositions) {

  public static RopeScaling linear(double factor) {
    return new RopeScaling("linear", factor, 0, 0, 0);
  }
}
