package io.batchgen.io;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/** Builds small Arrow tables column by column for tests, with any vector type. */
final class TestTable {

  private final BufferAllocator allocator;
  private final int rows;
  private final List<FieldVector> vectors = new ArrayList<>();

  TestTable(BufferAllocator allocator, int rows) {
    this.allocator = allocator;
    this.rows = rows;
  }

  /** Adds a column of type {@code type} (constructor (String, BufferAllocator)); fill may be a no-op. */
  <V extends FieldVector> TestTable add(String name, Class<V> type, Consumer<V> fill) {
    try {
      V v = type.getConstructor(String.class, BufferAllocator.class).newInstance(name, allocator);
      v.allocateNew();
      fill.accept(v);
      v.setValueCount(rows);
      vectors.add(v);
      return this;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  <V extends FieldVector> TestTable add(String name, Class<V> type) {
    return add(name, type, v -> {});
  }

  /** The table; closing it frees every column. */
  VectorSchemaRoot build() {
    VectorSchemaRoot root = new VectorSchemaRoot(vectors);
    root.setRowCount(rows);
    return root;
  }
}
