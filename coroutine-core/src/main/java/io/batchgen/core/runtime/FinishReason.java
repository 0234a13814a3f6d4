package io.batchgen.core.runtime;

/** Why a sequence stopped generating. */
public enum FinishReason {
  /** A stop token id, the model's EOS, or a stop string was generated. */
  STOP,
  /** {@code maxNewTokens} reached, or the model's maximum positions. */
  LENGTH,
  /** A module call failed for this sequence, or it can never fit the KV budget. */
  ERROR,
  /** Cancelled by the caller, or the runtime shut down before it finished. */
  CANCELLED;

  /** Lower-case name as written to result tables ({@code stop}, {@code length}, ...). */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
