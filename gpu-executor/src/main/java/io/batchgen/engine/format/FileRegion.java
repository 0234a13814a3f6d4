package io.batchgen.engine.format;

import java.nio.file.Path;

/**
 * Where a tensor's bytes lie in its checkpoint file: what the weight store's backing tier reads
 * explicitly (positional channel reads) instead of touching the memory mapping.
 *
 * @param file   the checkpoint file
 * @param offset absolute byte offset of the tensor's first byte
 */
public record FileRegion(Path file, long offset) {

  /** The region {@code delta} bytes further into the same file (a row slice of a tensor). */
  public FileRegion plus(long delta) {
    return new FileRegion(file, offset + delta);
  }
}
