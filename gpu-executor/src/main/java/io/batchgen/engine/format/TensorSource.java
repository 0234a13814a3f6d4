package io.batchgen.engine.format;

import java.io.IOException;
import java.io.OutputStream;

/** Bytes of one tensor, produced on demand while a checkpoint file is written (streamed, not held). */
public interface TensorSource {
  /** Exactly the number of bytes {@link #write} produces. */
  long bytes();

  /** Writes the tensor's bytes, little-endian, to {@code out}. */
  void write(OutputStream out) throws IOException;
}
