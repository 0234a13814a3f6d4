package io.batchgen.engine.model;

import io.batchgen.engine.format.DType;
import java.util.List;

/**
 * All weights of a model.
 *
 * @param embed     (vocab, hidden) token embeddings
 * @param layers    one per transformer block
 * @param finalNorm (hidden) final RMSNorm
 * @param lmHead    (vocab, hidden); the embedding itself when tied
 */
public record ModelWeights(WeightTensor embed, List<LayerWeights> layers, float[] finalNorm,
    WeightTensor lmHead) {

  /** The element type of the expert matrices (the bulk of the model). */
  public DType expertDtype() {
    return layers.get(0).experts().get(0).gate().dtype();
  }
}
