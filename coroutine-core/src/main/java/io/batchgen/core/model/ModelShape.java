package io.batchgen.core.model;

import java.util.Arrays;

/**
 * The facts about a model that the runtime needs to schedule it: sizes, expert layout and KV
 * geometry. No weights, no architecture details (those stay inside the {@link ModuleExecutor}).
 *
 * @param numLayers       transformer blocks
 * @param hiddenSize      width of the residual stream
 * @param numExperts      routed experts per layer; 1 for a dense model (its MLP is expert 0)
 * @param topK            experts each token is routed to; 1 for a dense model
 * @param sharedExpert    whether every layer also has an always-on shared expert (Qwen2-MoE style)
 * @param numKvHeads      key/value heads (GQA groups)
 * @param headDim         width of one attention head
 * @param vocabSize       rows of the LM head
 * @param maxPositions    longest sequence (prompt + generated) the model supports
 * @param eosTokenIds     end-of-sequence ids from the model's generation config; may be empty
 */
public record ModelShape(
    int numLayers,
    int hiddenSize,
    int numExperts,
    int topK,
    boolean sharedExpert,
    int numKvHeads,
    int headDim,
    int vocabSize,
    int maxPositions,
    int[] eosTokenIds) {

  public ModelShape {
    if (numLayers <= 0 || hiddenSize <= 0 || numExperts <= 0 || numKvHeads <= 0 || headDim <= 0
        || vocabSize <= 0 || maxPositions <= 0) {
      throw new IllegalArgumentException("Model shape sizes must be positive: " + describe(
          numLayers, hiddenSize, numExperts, topK, numKvHeads, headDim, vocabSize, maxPositions));
    }
    if (topK <= 0 || topK > numExperts) {
      throw new IllegalArgumentException(
          "Model shape has topK=" + topK + " but numExperts=" + numExperts
              + ": topK must be in [1, numExperts]");
    }
    eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
  }

  /** Floats of K plus V that one token occupies in one layer. */
  public int kvFloatsPerTokenPerLayer() {
    return 2 * numKvHeads * headDim;
  }

  /** Floats of K plus V that one token occupies across all layers. */
  public long kvFloatsPerToken() {
    return (long) numLayers * kvFloatsPerTokenPerLayer();
  }

  @Override
  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelShape s
        && numLayers == s.numLayers && hiddenSize == s.hiddenSize && numExperts == s.numExperts
        && topK == s.topK && sharedExpert == s.sharedExpert && numKvHeads == s.numKvHeads
        && headDim == s.headDim && vocabSize == s.vocabSize && maxPositions == s.maxPositions
        && Arrays.equals(eosTokenIds, s.eosTokenIds);
  }

  @Override
  public int hashCode() {
    return 31 * describe(numLayers, hiddenSize, numExperts, topK, numKvHeads, headDim, vocabSize,
        maxPositions).hashCode() + Arrays.hashCode(eosTokenIds) + (sharedExpert ? 1 : 0);
  }

  @Override
  public String toString() {
    return "ModelShape[" + describe(numLayers, hiddenSize, numExperts, topK, numKvHeads, headDim,
        vocabSize, maxPositions) + ", sharedExpert=" + sharedExpert + ", eos="
        + Arrays.toString(eosTokenIds) + "]";
  }

  private static String describe(int layers, int hidden, int experts, int topK, int kvHeads,
      int headDim, int vocab, int maxPos) {
    return "layers=" + layers + ", hidden=" + hidden + ", experts=" + experts + ", topK=" + topK
        + ", kvHeads=" + kvHeads + ", headDim=" + headDim + ", vocab=" + vocab
        + ", maxPositions=" + maxPos;
  }
}
