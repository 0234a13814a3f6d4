package io.batchgen.engine.backend;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.RowBatch;

/**
 * Argument checks shared by the executors (those of this package and of {@code backend.cuda}), so
 * a bad batch fails with one clear message.
 */
public final class BatchChecks {
  private BatchChecks() {
  }

  /** Checks {@code b} and returns its store, which must be a {@code type} (this executor's). */
  public static <T extends KvStore> T attention(AttentionBatch b, ModelShape s, Class<T> type) {
    if (b.layer() < 0 || b.layer() >= s.numLayers()) {
      throw new IllegalArgumentException("Attention batch for layer " + b.layer()
          + " but the model has " + s.numLayers() + " layers");
    }
    if (b.hiddenSize() != s.hiddenSize() || b.topK() != s.topK()) {
      throw new IllegalArgumentException("Attention batch sized for hidden=" + b.hiddenSize()
          + ", topK=" + b.topK() + " but the model has hidden=" + s.hiddenSize() + ", topK="
          + s.topK());
    }
    KvStore kv = b.kv();
    if (!type.isInstance(kv)) {
      throw new IllegalArgumentException("KV store " + kv + " was not created by this executor");
    }
    T heap = type.cast(kv);
    int covered = 0;
    for (int seg = 0; seg < b.segments(); seg++) {
      int rows = b.segmentRowCount(seg);
      int pos = b.segmentPosition(seg);
      int[] blocks = b.segmentBlocks(seg);
      if (pos < 0 || pos + rows > s.maxPositions()) {
        throw new IllegalArgumentException("Segment " + seg + " positions [" + pos + ", "
            + (pos + rows) + ") exceed the model's " + s.maxPositions() + " positions");
      }
      long need = ((long) pos + rows + heap.blockSize() - 1) / heap.blockSize();
      if (blocks == null || blocks.length < need) {
        throw new IllegalArgumentException("Segment " + seg + " needs " + need
            + " KV blocks for positions up to " + (pos + rows) + " but its block table has "
            + (blocks == null ? 0 : blocks.length));
      }
      for (int i = 0; i < need; i++) {
        if (blocks[i] < 0 || blocks[i] >= heap.numBlocks()) {
          throw new IllegalArgumentException("Segment " + seg + " block table entry " + i + " = "
              + blocks[i] + " is outside [0, " + heap.numBlocks() + ")");
        }
      }
      covered += rows;
    }
    if (covered != b.rows()) {
      throw new IllegalArgumentException("Attention batch segments cover " + covered
          + " rows but the batch has " + b.rows());
    }
    return heap;
  }

  public static void rows(RowBatch b, int inWidth, int outWidth, String what) {
    if (b.inWidth() != inWidth || b.outWidth() != outWidth) {
      throw new IllegalArgumentException(what + " needs a batch of width (" + inWidth + " -> "
          + outWidth + "), got (" + b.inWidth() + " -> " + b.outWidth() + ")");
    }
  }

  public static void expert(ModelShape s, int layer, int expert) {
    if (layer < 0 || layer >= s.numLayers() || expert < 0 || expert >= s.numExperts()) {
      throw new IllegalArgumentException("Expert [" + layer + ", " + expert
          + "] does not exist: the model has " + s.numLayers() + " layers of " + s.numExperts()
          + " experts");
    }
  }
}
