package io.batchgen.engine.model;

/**
 * One SwiGLU feed-forward block: {@code down(silu(gate(x)) * up(x))}.
 *
 * @param gate (ffn, hidden)
 * @param up   (ffn, hidden)
 * @param down (hidden, ffn)
 */
public record ExpertWeights(WeightTensor gate, WeightTensor up, WeightTensor down) {

  public int ffnSize() {
    return gate.rows();
  }
}
