package io.batchgen.io.state;

/**
 * Sequence state that failed validation on read: an unknown format version, a KV block length
 * that does not match this executor's model, a broken checksum, or a truncated stream. The
 * message says which and what to do; the owner of the sequences should reclaim and recompute
 * them rather than resume from this state.
 */
public class CorruptStateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  CorruptStateException(String message) {
    super(message);
  }

  CorruptStateException(String message, Throwable cause) {
    super(message, cause);
  }
}
