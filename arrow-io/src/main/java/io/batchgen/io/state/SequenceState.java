package io.batchgen.io.state;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One sequence's state as it travels between executors: what the runtime snapshot says
 * ({@code metadata}, opaque here: tokens, position, sampling state…) and its KV blocks.
 *
 * @param sequenceId      the sequence's id; never null or empty
 * @param metadataVersion the version of the runtime's snapshot format that wrote {@code metadata};
 *                        carried so the reader can refuse a version it does not know
 * @param metadata        the runtime's serialized snapshot (e.g. Kryo bytes); may be empty
 * @param kvBlocks        KV blocks in the runtime's order, each {@code floatsPerBlock} floats in
 *                        the canonical layout {@code (2, blockSize, numKvHeads, headDim)} (see
 *                        {@code KvStore}); may be empty (a sequence not started, or one to be
 *                        recomputed)
 */
public record SequenceState(
    String sequenceId, int metadataVersion, byte[] metadata, List<float[]> kvBlocks) {

  public SequenceState {
    Objects.requireNonNull(sequenceId, "sequenceId");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(kvBlocks, "kvBlocks");
    if (sequenceId.isEmpty()) {
      throw new IllegalArgumentException("Sequence state needs a non-empty sequence id");
    }
    kvBlocks = List.copyOf(kvBlocks); // the arrays are not copied: blocks are large
  }

  /** Floats in all blocks together. */
  public long kvFloats() {
    long n = 0;
    for (float[] b : kvBlocks) {
      n += b.length;
    }
    return n;
  }

  /** Equal when every field, and every float bit, is equal. */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SequenceState s) || !sequenceId.equals(s.sequenceId)
        || metadataVersion != s.metadataVersion || !Arrays.equals(metadata, s.metadata)
        || kvBlocks.size() != s.kvBlocks.size()) {
      return false;
    }
    for (int i = 0; i < kvBlocks.size(); i++) {
      float[] a = kvBlocks.get(i);
      float[] b = s.kvBlocks.get(i);
      if (a.length != b.length) {
        return false;
      }
      for (int k = 0; k < a.length; k++) {
        if (Float.floatToRawIntBits(a[k]) != Float.floatToRawIntBits(b[k])) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    List<Integer> blockHashes = new ArrayList<>();
    for (float[] b : kvBlocks) {
      blockHashes.add(Arrays.hashCode(b));
    }
    return Objects.hash(sequenceId, metadataVersion, Arrays.hashCode(metadata), blockHashes);
  }

  @Override
  public String toString() {
    return "SequenceState[id=" + sequenceId + ", metadataVersion=" + metadataVersion
        + ", metadataBytes=" + metadata.length + ", kvBlocks=" + kvBlocks.size() + "]";
  }
}
