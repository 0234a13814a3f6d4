package io.batchgen.core.sampling;

/**
 * Turns token ids back into text, so the runtime can detect stop strings. Implemented by the
 * tokenizer side (gpu-executor); the runtime only ever decodes a short tail of a sequence's
 * generated tokens.
 *
 * <p>Called from the runtime's scheduler thread; implementations must be thread-safe if shared
 * between runtimes. A throw fails the sequence being checked (finish reason {@code error}).
 */
@FunctionalInterface
public interface Detokenizer {

  /** The text of {@code tokens[offset .. offset + count)}. */
  String decode(int[] tokens, int offset, int count);
}
