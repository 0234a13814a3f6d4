package io.batchgen.io;

/** Why a sequence stopped; the wire names are OpenAI's. */
public enum FinishReason {
  /** An end-of-sequence token or a stop string. */
  STOP("stop"),
  /** {@code max_new_tokens} or the model's context length was reached. */
  LENGTH("length"),
  /** No completion: the row failed (bad input, or a runtime error); {@code error} says why. */
  ERROR("error");

  private final String wireName;

  FinishReason(String wireName) {
    this.wireName = wireName;
  }

  /** The value in the {@code finish_reason} column. */
  public String wireName() {
    return wireName;
  }

  /** Parses a {@code finish_reason} value. */
  public static FinishReason fromWireName(String name) {
    for (FinishReason r : values()) {
      if (r.wireName.equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("Unknown finish_reason [" + name
        + "]; expected stop, length or error");
  }
}
