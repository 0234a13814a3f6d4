package io.batchgen.engine.backend.cuda;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix {@code (rows, cols)} as the cuda backend's GEMM reads it: bf16 planes in the
 * checkpoint's row-major order, {@code hi} and, for weights bf16 cannot hold exactly,
 * {@code lo = w - hi} (both rounded to nearest even, as the device's
 * {@code __float2bfloat16_rn}), so that {@code hi + lo} carries about 16 significant bits.
 * A bf16 checkpoint's bytes are the hi plane as they are (no lo).
 *
 * @param rows  output features
 * @param cols  input width
 * @param hi    {@code rows * cols} bf16 values, little-endian
 * @param lo    the low plane, or null when {@code hi} is exact
 */
record Bf16Planes(int rows, int cols, ByteBuffer hi, ByteBuffer lo) {

  /** The planes of {@code w}: its own bytes for bf16, a split for every other dtype. */
  static Bf16Planes of(WeightTensor w) {
    if (w.dtype() == DType.BF16) {
      return new Bf16Planes(w.rows(), w.cols(),
          w.data().duplicate().order(ByteOrder.LITTLE_ENDIAN), null);
    }
    long n = (long) w.rows() * w.cols();
    if (2 * n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Weight " + w.name() + " (" + w.rows() + ", " + w.cols()
          + ") is too large for one host staging buffer; store it as bf16");
    }
    ByteBuffer hi = ByteBuffer.allocateDirect((int) (2 * n)).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer lo = ByteBuffer.allocateDirect((int) (2 * n)).order(ByteOrder.LITTLE_ENDIAN);
    float[] row = new float[w.cols()];
    boolean exact = true;
    for (int r = 0; r < w.rows(); r++) {
      w.readRow(r, row, 0);
      for (float v : row) {
        short h = Half.floatToBf16(v);
        short l = Half.floatToBf16(v - Half.bf16ToFloat(h));
        hi.putShort(h);
        lo.putShort(l);
        exact &= l == 0;
      }
    }
    return new Bf16Planes(w.rows(), w.cols(), hi.flip(), exact ? null : lo.flip());
  }

  /** Planes of an fp32 vector or matrix held in memory (tests, benchmarks). */
  static Bf16Planes of(float[] w, int rows, int cols, boolean keepLo) {
    ByteBuffer hi = ByteBuffer.allocateDirect(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer lo = ByteBuffer.allocateDirect(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      short h = Half.floatToBf16(w[i]);
      hi.putShort(h);
      lo.putShort(Half.floatToBf16(w[i] - Half.bf16ToFloat(h)));
    }
    return new Bf16Planes(rows, cols, hi.flip(), keepLo ? lo.flip() : null);
  }

  /** Bytes on the device: one or two planes of {@code rows * cols} bf16 values. */
  long deviceBytes() {
    return (lo == null ? 2L : 4L) * rows * cols;
  }

  /** Element {@code (r, c)} as the GEMM sees it: {@code hi + lo}. */
  float value(int r, int c) {
    int i = 2 * (r * cols + c);
    float v = Half.bf16ToFloat(hi.getShort(hi.position() + i));
    return lo == null ? v : v + Half.bf16ToFloat(lo.getShort(lo.position() + i));
  }
}
