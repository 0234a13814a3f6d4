package io.batchgen.core.runtime;

import java.util.Arrays;

/**
 * What the runtime returns for one finished sequence: its tokens and why it stopped, with timing.
 * The row that reaches a result table is {@code io.batchgen.io.GenerationResult}, made from this
 * by the task that owns the row (it adds the text, the row's id type and provenance).
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
public record SequenceResult(String id, int[] tokens, FinishReason reason, String error,
    int promptTokens, long queueNanos, long totalNanos, int preemptions) {

  public SequenceResult {
    tokens = tokens.clone();
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceResult r && id.equals(r.id) && Arrays.equals(tokens, r.tokens)
        && reason == r.reason;
  }

  @Override
  public int hashCode() {
    return id.hashCode() * 31 + Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return "SequenceResult[id=" + id + ", tokens=" + Arrays.toString(tokens) + ", reason="
        + reason.wireName() + (error == null ? "" : ", error=" + error) + "]";
  }
}
