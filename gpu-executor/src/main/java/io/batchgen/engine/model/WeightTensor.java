package io.batchgen.engine.model;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.FileRegion;
import io.batchgen.engine.format.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A 2-D weight matrix {@code (rows, cols)} in its stored element type, viewed in place in the
 * memory-mapped checkpoint (one row = one output feature, {@code cols} = the input width). Row
 * decoding is thread-safe (absolute reads only). {@link #origin()} says where the bytes lie in the
 * file, so the weight store can read them explicitly; null for a tensor built in memory.
 */
public final class WeightTensor {
  private final String name;
  private final DType dtype;
  private final int rows;
  private final int cols;
  private final long rowBytes;
  private final ByteBuffer data;
  private final FloatBuffer f32;
  private final ShortBuffer u16;
  private final FileRegion origin;

  public WeightTensor(String name, DType dtype, int rows, int cols, ByteBuffer data) {
    this(name, dtype, rows, cols, data, null);
  }

  /** A tensor whose bytes {@code data} were mapped from {@code origin} (may be null). */
  public WeightTensor(String name, DType dtype, int rows, int cols, ByteBuffer data,
      FileRegion origin) {
    this.origin = origin;
    this.name = name;
    this.dtype = dtype;
    this.rows = rows;
    this.cols = cols;
    this.rowBytes = dtype.bytesFor(cols);
    if (rowBytes < 0 || rowBytes * rows != data.remaining()) {
      throw new IllegalArgumentException("Tensor " + name + " (" + rows + ", " + cols + ") "
          + dtype + " needs " + rowBytes * rows + " bytes, has " + data.remaining());
    }
    this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.f32 = dtype == DType.F32 ? this.data.asFloatBuffer() : null;
    this.u16 = dtype == DType.BF16 || dtype == DType.F16 ? this.data.asShortBuffer() : null;
  }

  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  /** The raw little-endian bytes, {@code rows * rowBytes()} long. */
  public ByteBuffer data() {
    return data;
  }

  public long rowBytes() {
    return rowBytes;
  }

  /** Where the bytes lie in the checkpoint file, or null for a tensor built in memory. */
  public FileRegion origin() {
    return origin;
  }

  /** Bytes of the stored tensor: {@code rows * rowBytes()}. */
  public long bytes() {
    return rows * rowBytes;
  }

  /** Float view for F32 tensors, else null. */
  public FloatBuffer f32() {
    return f32;
  }

  /** 16-bit view for BF16/F16 tensors, else null. */
  public ShortBuffer u16() {
    return u16;
  }

  /** Decodes row {@code row} into {@code dst[off .. off + cols)}. */
  public void readRow(int row, float[] dst, int off) {
    switch (dtype) {
      case F32 -> f32.get((int) ((long) row * cols), dst, off, cols);
      case BF16 -> {
        int base = row * cols;
        for (int i = 0; i < cols; i++) {
          dst[off + i] = Half.bf16ToFloat(u16.get(base + i));
        }
      }
      case F16 -> {
        int base = row * cols;
        for (int i = 0; i < cols; i++) {
          dst[off + i] = Half.f16ToFloat(u16.get(base + i));
        }
      }
      case Q8_0 -> {
        long base = row * rowBytes;
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
          int p = (int) (base + 34L * b);
          float d = Half.f16ToFloat(data.getShort(p));
          for (int j = 0; j < 32; j++) {
            dst[off + b * 32 + j] = data.get(p + 2 + j) * d;
          }
        }
      }
      default -> throw new IllegalStateException("unreachable: " + dtype);
    }
  }

  /** One element, decoded. Slow; for tests and tools. */
  public float get(int row, int col) {
    float[] tmp = new float[cols];
    readRow(row, tmp, 0);
    return tmp[col];
  }

  /** A view of rows {@code [first, first + count)}: for slicing fused GGUF expert tensors. */
  public WeightTensor rowSlice(String sliceName, int first, int count) {
    ByteBuffer view = data.slice((int) (first * rowBytes), (int) (count * rowBytes));
    return new WeightTensor(sliceName, dtype, count, cols, view,
        origin == null ? null : origin.plus(first * rowBytes));
  }

  @Override
  public String toString() {
    return name + "(" + rows + ", " + cols + ") " + dtype;
  }
}
