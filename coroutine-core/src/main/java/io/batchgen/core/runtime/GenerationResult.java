package io.batchgen.core.runtime;

import java.util.Arrays;

/**
 * A finished sequence.
 *
 * @param id           the request's id
 * @param tokens       generated token ids (prompt excluded); when {@code reason} is
 *                     {@link FinishReason#STOP} the last one is the stop token, or completes the
 *                     stop string
 * @param reason       why generation ended
 * @param error        what failed, for {@link FinishReason#ERROR}; otherwise null
 * @param promptTokens length of the prompt
 * @param queueNanos   time from submission to the first module call
 * @param totalNanos   time from submission to finish
 * @param preemptions  how often it was parked or dropped for recompute
 */
public record GenerationResult(String id, int[] tokens, FinishReason reason, String error,
    int promptTokens, long queueNanos, long totalNanos, int preemptions) {

  public GenerationResult {
    tokens = tokens.clone();
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationResult r && id.equals(r.id) && Arrays.equals(tokens, r.tokens)
        && reason == r.reason;
  }

  @Override
  public int hashCode() {
    return id.hashCode() * 31 + Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return "GenerationResult[id=" + id + ", tokens=" + Arrays.toString(tokens) + ", reason="
        + reason.label() + (error == null ? "" : ", error=" + error) + "]";
  }
}
