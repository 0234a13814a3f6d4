package io.batchgen.engine.model;

import java.util.List;

/**
 * The weights of one transformer block. Small vectors are decoded to float arrays; matrices stay
 * mapped. Nullable fields are absent for architectures that do not have them.
 *
 * @param attnNorm   (hidden) input RMSNorm
 * @param wq         (heads * headDim, hidden)
 * @param wk         (kvHeads * headDim, hidden)
 * @param wv         (kvHeads * headDim, hidden)
 * @param wo         (hidden, heads * headDim)
 * @param bq         (heads * headDim) or null
 * @param bk         (kvHeads * headDim) or null
 * @param bv         (kvHeads * headDim) or null
 * @param qNorm      (headDim) per-head or (heads * headDim) full, or null
 * @param kNorm      (headDim) per-head or (kvHeads * headDim) full, or null
 * @param ffnNorm    (hidden) post-attention RMSNorm
 * @param router     (experts, hidden), or null for a dense model
 * @param experts    routed experts; one (the MLP) for a dense model
 * @param shared     the shared expert, or null
 * @param sharedGate (hidden) the shared expert's sigmoid gate row, or null
 */
public record LayerWeights(
    float[] attnNorm,
    WeightTensor wq,
    WeightTensor wk,
    WeightTensor wv,
    WeightTensor wo,
    float[] bq,
    float[] bk,
    float[] bv,
    float[] qNorm,
    float[] kNorm,
    float[] ffnNorm,
    WeightTensor router,
    List<ExpertWeights> experts,
    ExpertWeights shared,
    float[] sharedGate) {
}
