package io.batchgen.engine.format;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a checkpoint file: its name, element type, shape in row-major order (outermost
 * first, as PyTorch and safetensors write it; GGUF's innermost-first dims are reversed on read) and
 * its bytes, a read-only little-endian view into the memory-mapped file, and where those bytes lie
 * in the file ({@code origin}) for explicit reads.
 */
public record TensorInfo(String name, DType dtype, long[] shape, ByteBuffer data,
    FileRegion origin) {

  public TensorInfo {
    Objects.requireNonNull(origin, "origin");
  }

  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }
}
