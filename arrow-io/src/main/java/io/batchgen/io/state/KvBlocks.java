package io.batchgen.io.state;

import io.batchgen.core.model.KvStore;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves a sequence's KV blocks between a {@link KvStore} and the {@code float[]} blocks of a
 * {@link SequenceState}, in the store's canonical block layout. Runs on the runtime thread (the
 * store's contract).
 */
public final class KvBlocks {

  private KvBlocks() {}

  /** Copies the store blocks {@code blockIds} out, in that order (one array per block). */
  public static List<float[]> read(KvStore store, int[] blockIds) {
    List<float[]> out = new ArrayList<>(blockIds.length);
    for (int id : blockIds) {
      float[] block = new float[store.floatsPerBlock()];
      store.readBlock(id, block, 0);
      out.add(block);
    }
    return out;
  }

  /**
   * Writes {@code blocks} into the store blocks {@code blockIds} (allocated by the caller's block
   * pool), in order.
   *
   * @throws IllegalArgumentException when the counts differ or a block has the wrong length
   */
  public static void write(KvStore store, int[] blockIds, List<float[]> blocks) {
    if (blockIds.length != blocks.size()) {
      throw new IllegalArgumentException("Restoring " + blocks.size() + " KV blocks into "
          + blockIds.length + " allocated store blocks; allocate one store block per KV block");
    }
    for (int i = 0; i < blockIds.length; i++) {
      float[] block = blocks.get(i);
      if (block.length != store.floatsPerBlock()) {
        throw new IllegalArgumentException("KV block " + i + " has " + block.length
            + " floats but the store's blocks hold " + store.floatsPerBlock()
            + "; the state comes from a model with another KV geometry");
      }
      store.writeBlock(blockIds[i], block, 0);
    }
  }
}
