package io.batchgen.engine.model;

import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Tensors of a checkpoint by name, with the file each came from, and shape-checked accessors. */
final class TensorTable {
  private final Map<String, TensorInfo> tensors = new HashMap<>();
  private final Map<String, Path> files = new HashMap<>();
  private final Path where;

  TensorTable(Path where) {
    this.where = where;
  }

  void add(Path file, TensorInfo t) {
    if (tensors.put(t.name(), t) != null) {
      throw ModelFormatException.of(file, "tensor [" + t.name() + "] also appears in "
          + files.get(t.name()));
    }
    files.put(t.name(), file);
  }

  boolean has(String name) {
    return tensors.containsKey(name);
  }

  private TensorInfo require(String name, String why) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw ModelFormatException.of(where, "tensor [" + name + "] is missing (" + why
          + "); the checkpoint is incomplete or not of that architecture");
    }
    return t;
  }

  /** A matrix that must have shape {@code (rows, cols)}, or be 3-D {@code (n, rows/n, cols)}. */
  WeightTensor matrix(String name, int rows, int cols, String why) {
    TensorInfo t = require(name, why);
    long[] s = t.shape();
    boolean ok = s.length == 2 && s[0] == rows && s[1] == cols
        || s.length == 3 && s[0] * s[1] == rows && s[2] == cols;
    if (!ok) {
      throw ModelFormatException.of(files.get(name), "tensor [" + name + "] has shape "
          + Arrays.toString(s) + " but the config implies [" + rows + ", " + cols + "] (" + why
          + ")");
    }
    if (cols % t.dtype().blockElements() != 0) {
      throw ModelFormatException.of(files.get(name), "tensor [" + name + "] row length " + cols
          + " is not a multiple of the " + t.dtype() + " block size");
    }
    return new WeightTensor(name, t.dtype(), rows, cols, t.data(), t.origin());
  }

  /** A vector of {@code n} elements (any dtype, decoded), or a {@code (1, n)} matrix. */
  float[] vector(String name, int n, String why) {
    TensorInfo t = require(name, why);
    long[] s = t.shape();
    if (t.elements() != n || s.length > 2 || (s.length == 2 && s[0] != 1 && s[1] != 1)) {
      throw ModelFormatException.of(files.get(name), "tensor [" + name + "] has shape "
          + Arrays.toString(s) + " but the config implies [" + n + "] (" + why + ")");
    }
    if (n % t.dtype().blockElements() != 0) {
      throw ModelFormatException.of(files.get(name), "tensor [" + name + "] of " + n
          + " elements cannot be " + t.dtype());
    }
    float[] out = new float[n];
    new WeightTensor(name, t.dtype(), 1, n, t.data()).readRow(0, out, 0);
    return out;
  }

  /** Element count of a tensor, or -1 when absent. */
  long elements(String name) {
    TensorInfo t = tensors.get(name);
    return t == null ? -1 : t.elements();
  }
}
