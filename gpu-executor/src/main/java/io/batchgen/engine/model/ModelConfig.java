package io.batchgen.engine.model;

import io.batchgen.core.model.ModelShape;

/**
 * Everything about a model's math that is not a weight, normalised across architectures and
 * formats. Dense models are the one-expert case: {@code numExperts == 1}, {@code topK == 1} and the
 * MLP is expert 0 with {@code expertFfnSize == intermediate_size}.
 *
 * @param arch                 architecture
 * @param vocabSize            rows of the embedding and LM head
 * @param hiddenSize           width of the residual stream
 * @param numLayers            transformer blocks
 * @param numHeads             query heads
 * @param numKvHeads           key/value heads (GQA)
 * @param headDim              width of one head
 * @param numExperts           routed experts per layer (1 for dense)
 * @param topK                 experts per token (1 for dense)
 * @param expertFfnSize        intermediate width of one routed expert
 * @param normTopkProb         renormalise the top-k routing weights to sum to 1
 * @param sharedExpertFfnSize  intermediate width of the shared expert, 0 when there is none
 * @param rmsEps               RMSNorm epsilon
 * @param ropeTheta            RoPE base
 * @param ropeScaling          RoPE scaling, or null
 * @param ropeStyle            which dimensions RoPE rotates together
 * @param qkNorm               RMSNorm on queries and keys before RoPE
 * @param attentionBias        q/k/v projections have biases
 * @param clipQkv              clamp q/k/v to [-clip, clip] (OLMoE), or 0 for none
 * @param tieWordEmbeddings    LM head shares the embedding matrix
 * @param maxPositions         longest sequence supported
 * @param eosTokenIds          end-of-sequence ids (generation config first)
 * @param bosTokenId           beginning-of-sequence id, or -1
 */
public record ModelConfig(
    Architecture arch,
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int numExperts,
    int topK,
    int expertFfnSize,
    boolean normTopkProb,
    int sharedExpertFfnSize,
    float rmsEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    RopeStyle ropeStyle,
    QkNorm qkNorm,
    boolean attentionBias,
    float clipQkv,
    boolean tieWordEmbeddings,
    int maxPositions,
    int[] eosTokenIds,
    int bosTokenId) {

  /** Which pairs of head dimensions RoPE rotates. */
  public enum RopeStyle {
    /** Hugging Face's rotate_half: dimension i pairs with i + headDim/2 (GGML "neox"). */
    HALF,
    /** Adjacent pairs (2i, 2i+1): llama.cpp's layout for llama-arch GGUF, whose Q/K rows are permuted. */
    INTERLEAVED
  }

  /** Query/key normalisation before RoPE. */
  public enum QkNorm {
    NONE,
    /** Qwen3: RMSNorm over each head ({@code headDim} weights). */
    PER_HEAD,
    /** OLMoE: RMSNorm over all heads together ({@code numHeads * headDim} weights for q). */
    FULL
  }

  public ModelConfig {
    eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads " + numHeads
          + " is not a multiple of num_key_value_heads " + numKvHeads);
    }
  }

  public boolean sharedExpert() {
    return sharedExpertFfnSize > 0;
  }

  public int qDim() {
    return numHeads * headDim;
  }

  public int kvDim() {
    return numKvHeads * headDim;
  }

  /** The scheduling facts the runtime needs. */
  public ModelShape shape() {
    return new ModelShape(numLayers, hiddenSize, numExperts, topK, sharedExpert(), numKvHeads,
        headDim, vocabSize, maxPositions, eosTokenIds);
  }

  @Override
  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }
}
