package io.batchgen.engine.backend;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.model.WeightTensor;

/**
 * Decodes weight rows from the memory-mapped checkpoint into floats on the heap, where the Vector
 * API kernels read them. One small implementation per stored element type.
 */
interface RowDecoder {

  /** Writes rows {@code [row, row + count)} of {@code w} to {@code dst[(i) * cols ...]}. */
  void decode(WeightTensor w, int row, int count, float[] dst, Scratch scratch);

  /** Per-worker buffers reused across calls. */
  final class Scratch {
    private short[] shorts = new short[0];
    private byte[] bytes = new byte[0];

    short[] shorts(int n) {
      if (shorts.length < n) {
        shorts = new short[n];
      }
      return shorts;
    }

    byte[] bytes(int n) {
      if (bytes.length < n) {
        bytes = new byte[n];
      }
      return bytes;
    }
  }

  static RowDecoder of(DType dtype) {
    return switch (dtype) {
      case F32 -> F32Rows.INSTANCE;
      case BF16 -> Bf16Rows.INSTANCE;
      case F16 -> F16Rows.INSTANCE;
      case Q8_0 -> Q8Rows.INSTANCE;
    };
  }
}
