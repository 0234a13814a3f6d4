package io.batchgen.io.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.KvStore;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

class KvBlocksTest {

  /** A heap-backed store: the obviously-correct twin of a device store. */
  static final class ArrayKvStore implements KvStore {
    private final float[][] blocks;
    private final int blockSize;
    private final int floatsPerBlock;

    ArrayKvStore(int numBlocks, int blockSize, int kvHeads, int headDim) {
      this.blockSize = blockSize;
      this.floatsPerBlock = 2 * blockSize * kvHeads * headDim;
      this.blocks = new float[numBlocks][floatsPerBlock];
    }

    @Override
    public int numBlocks() {
      return blocks.length;
    }

    @Override
    public int blockSize() {
      return blockSize;
    }

    @Override
    public int floatsPerBlock() {
      return floatsPerBlock;
    }

    @Override
    public void readBlock(int block, float[] dst, int offset) {
      System.arraycopy(blocks[block], 0, dst, offset, floatsPerBlock);
    }

    @Override
    public void writeBlock(int block, float[] src, int offset) {
      System.arraycopy(src, offset, blocks[block], 0, floatsPerBlock);
    }

    @Override
    public void close() {}
  }

  @Test
  void migratesBlocksFromOneStoreToOtherBlockIdsOfAnother() {
    ArrayKvStore source = new ArrayKvStore(8, 4, 2, 8);
    for (int b = 0; b < 8; b++) {
      float[] data = new float[source.floatsPerBlock()];
      Arrays.fill(data, b + 0.25f);
      data[b] = Float.NaN;
      source.writeBlock(b, data, 0);
    }
    SequenceState state = new SequenceState("s1", 1, new byte[] {9},
        KvBlocks.read(source, new int[] {5, 2, 7}));

    List<SequenceState> received;
    try (BufferAllocator allocator = new RootAllocator()) {
      StateCodec codec = new StateCodec(allocator, source.floatsPerBlock());
      received = codec.decode(codec.encode(List.of(state)));
    }
    ArrayKvStore destination = new ArrayKvStore(4, 4, 2, 8);
    KvBlocks.write(destination, new int[] {0, 1, 3}, received.get(0).kvBlocks());

    int[][] pairs = {{5, 0}, {2, 1}, {7, 3}};
    for (int[] p : pairs) {
      float[] expected = new float[source.floatsPerBlock()];
      float[] actual = new float[source.floatsPerBlock()];
      source.readBlock(p[0], expected, 0);
      destination.readBlock(p[1], actual, 0);
      assertThat(actual).usingElementComparator(Float::compare).containsExactly(expected);
    }
  }

  @Test
  void refusesMismatchedCountsAndGeometry() {
    ArrayKvStore store = new ArrayKvStore(2, 4, 1, 4);
    assertThatThrownBy(() -> KvBlocks.write(store, new int[] {0}, List.of()))
        .hasMessageContaining("Restoring 0 KV blocks into 1 allocated store blocks");
    assertThatThrownBy(() -> KvBlocks.write(store, new int[] {0}, List.of(new float[3])))
        .hasMessageContaining("KV block 0 has 3 floats but the store's blocks hold 32");
  }
}
