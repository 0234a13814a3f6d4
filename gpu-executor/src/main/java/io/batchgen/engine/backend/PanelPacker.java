package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;

/**
 * Decodes a strip of weight rows into a float panel for {@link Gemm}: rows {@code [n0, n0 +
 * count)} of {@code w} transposed to k-major order, {@code panel[k * Gemm.NR + j] = w[n0 + j][k]},
 * columns {@code j >= count} zero. One small implementation per stored element type.
 */
interface PanelPacker {

  void pack(WeightTensor w, int n0, int count, float[] panel, Scratch scratch);

  /** Per-worker buffers reused across calls. */
  final class Scratch {
    float[] row = new float[0];
    short[] shorts = new short[0];
    byte[] bytes = new byte[0];

    float[] row(int n) {
      if (row.length < n) {
        row = new float[n];
      }
      return row;
    }

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

  static PanelPacker of(io.batchgen.engine.format.DType dtype) {
    return switch (dtype) {
      case F32 -> new F32Packer();
      case BF16 -> new Bf16Packer();
      case F16 -> new F16Packer();
      case Q8_0 -> new Q8Packer();
    };
  }

  /** Zero-fills the columns a partial strip leaves empty. */
  static void zeroTail(float[] panel, int k, int count) {
    if (count < Gemm.NR) {
      for (int kk = 0; kk < k; kk++) {
        for (int j = count; j < Gemm.NR; j++) {
          panel[kk * Gemm.NR + j] = 0f;
        }
      }
    }
  }
}
