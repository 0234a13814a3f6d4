package io.batchgen.core.snapshot;

import io.batchgen.core.sampling.SamplingParams;
import java.util.Arrays;

/**
 * Everything needed to resume a sequence in another runtime: its tokens, how far its KV cache
 * reaches, its sampling parameters, and either the KV itself or nothing (then the destination
 * recomputes it from the tokens). Random sampling draws from {@code (seed, step)} only, so no
 * random state travels.
 *
 * <p>Taken between steps: {@code position < tokens.length}; the destination's next step processes
 * {@code tokens[position ..]}. The model facts let the destination refuse a snapshot from a
 * different model.
 *
 * @param id           the request id
 * @param tokens       prompt followed by the tokens generated so far
 * @param promptLength how many of {@code tokens} are prompt
 * @param sampling     sampling parameters
 * @param position     positions with KV in {@code kv}; 0 when {@code kv} is null
 * @param kv           KV of positions {@code [0, position)} in {@code KvLayout} form
 *                     ({@code (layers, 2, position, kvDim)}), or null to recompute
 * @param numLayers    model layers
 * @param kvDim        {@code numKvHeads * headDim} of the model
 * @param vocabSize    model vocabulary size
 * @param preemptions  preemptions so far (carried into the result)
 */
public record SequenceSnapshot(String id, int[] tokens, int promptLength, SamplingParams sampling,
    int position, float[] kv, int numLayers, int kvDim, int vocabSize, int preemptions) {

  public SequenceSnapshot {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("Snapshot has no sequence id");
    }
    if (promptLength <= 0 || promptLength > tokens.length) {
      throw new IllegalArgumentException("Snapshot [" + id + "] has promptLength " + promptLength
          + " but " + tokens.length + " tokens");
    }
    if (position < 0 || position >= tokens.length) {
      throw new IllegalArgumentException("Snapshot [" + id + "] has position " + position
          + " outside [0, " + tokens.length + "): it was not taken between steps");
    }
    if (kv == null ? position != 0 : kv.length != 2L * numLayers * position * kvDim) {
      throw new IllegalArgumentException("Snapshot [" + id + "] carries "
          + (kv == null ? "no" : kv.length) + " KV floats for position " + position + ", "
          + numLayers + " layers and kvDim " + kvDim + "; expected " + 2L * numLayers * position
          * kvDim);
    }
    for (int t : tokens) {
      if (t < 0 || t >= vocabSize) {
        throw new IllegalArgumentException("Snapshot [" + id + "] holds token id " + t
            + " outside the vocabulary of " + vocabSize);
      }
    }
  }

  /** Generated tokens so far. */
  public int[] generated() {
    return Arrays.copyOfRange(tokens, promptLength, tokens.length);
  }

  /** Whether the KV travels (false: the destination recomputes it). */
  public boolean hasKv() {
    return kv != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceSnapshot s && id.equals(s.id) && Arrays.equals(tokens, s.tokens)
        && promptLength == s.promptLength && sampling.equals(s.sampling)
        && position == s.position && Arrays.equals(kv, s.kv) && numLayers == s.numLayers
        && kvDim == s.kvDim && vocabSize == s.vocabSize && preemptions == s.preemptions;
  }

  @Override
  public int hashCode() {
    return id.hashCode() * 31 + Arrays.hashCode(tokens) + position;
  }

  @Override
  public String toString() {
    return "SequenceSnapshot[id=" + id + ", tokens=" + tokens.length + ", prompt=" + promptLength
        + ", position=" + position + ", kv=" + (kv == null ? "recompute" : kv.length + " floats")
        + "]";
  }
}
