package io.batchgen.core.runtime;

/**
 * Why a sequence stopped: the one finish reason of the product, from the runtime to the result
 * table's {@code finish_reason} column (whose values are OpenAI's names).
 */
public enum FinishReason {
  /** A stop token id, the model's EOS, or a stop string was generated. */
  STOP("stop"),
  /** {@code max_new_tokens} or the model's context length was reached. */
  LENGTH("length"),
  /** No completion: the row failed (bad input, or the runtime refused it); the error says why. */
  ERROR("error"),
  /**
   * Cancelled by the caller, or the runtime shut down first. Never written to a result table:
   * the task that owns the row runs it again.
   */
  CANCELLED("cancelled");

  private final String wireName;

  FinishReason(String wireName) {
    this.wireName = wireName;
  }

  /** The value in the {@code finish_reason} column ({@code stop}, {@code length}, ...). */
  public String wireName() {
    return wireName;
  }

  /** Parses a {@code finish_reason} value of a result table. */
  public static FinishReason fromWireName(String name) {
    for (FinishReason r : values()) {
      if (r != CANCELLED && r.wireName.equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("Unknown finish_reason [" + name
        + "]; expected stop, length or error");
  }
}
