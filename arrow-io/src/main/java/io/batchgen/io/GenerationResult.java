package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import java.util.Arrays;
import java.util.Objects;

/**
 * One row of the result table: what the runtime produced for one prompt (or why it could not).
 *
 * @param id               the prompt's id (text form; see {@link IdType}); null only for an error
 *                         row whose input id was null
 * @param completion       generated text; null when {@code error} is set
 * @param tokenIds         generated token ids, or null when not kept
 * @param promptTokens     tokens in the (rendered) prompt; 0 when the row failed before that
 * @param completionTokens tokens generated
 * @param finishReason     why generation stopped
 * @param error            null when fine, else what went wrong and the fix
 * @param seed             the sampling seed actually used; null for greedy or failed rows
 * @param provenance       model and engine that produced the row
 */
public record GenerationResult(
    String id,
    String completion,
    int[] tokenIds,
    int promptTokens,
    int completionTokens,
    FinishReason finishReason,
    String error,
    Long seed,
    Provenance provenance) {

  public GenerationResult {
    Objects.requireNonNull(finishReason, "finishReason");
    Objects.requireNonNull(provenance, "provenance");
    if (finishReason == FinishReason.CANCELLED) {
      throw new IllegalArgumentException("Result [" + id + "]: a cancelled sequence has no result"
          + " row; its owner runs it again");
    }
    if ((error != null) != (finishReason == FinishReason.ERROR)) {
      throw new IllegalArgumentException("Result [" + id + "]: error must be set exactly when"
          + " finishReason is ERROR (finishReason=" + finishReason + ")");
    }
    if (id == null && error == null) {
      throw new IllegalArgumentException("Only an error result may have a null id");
    }
    if (promptTokens < 0 || completionTokens < 0) {
      throw new IllegalArgumentException("Result [" + id + "]: token counts must be >= 0, got "
          + promptTokens + " and " + completionTokens);
    }
  }

  /** A successful completion. */
  public static GenerationResult completed(String id, String completion, int[] tokenIds,
      int promptTokens, FinishReason reason, Long seed, Provenance provenance) {
    int generated = tokenIds == null ? 0 : tokenIds.length;
    return new GenerationResult(id, Objects.requireNonNull(completion, "completion"), tokenIds,
        promptTokens, generated, reason, null, seed, provenance);
  }

  /** A failed row: no completion, {@code error} says why. */
  public static GenerationResult failed(String id, String error, Provenance provenance) {
    return new GenerationResult(id, null, null, 0, 0, FinishReason.ERROR,
        Objects.requireNonNull(error, "error"), null, provenance);
  }

  /** The error result for a bad input row read under {@link BadRowPolicy#ERROR_RECORD}. */
  public static GenerationResult failed(RowError bad, Provenance provenance) {
    return failed(bad.id(), bad.describe(), provenance);
  }

  @Override
  public int[] tokenIds() {
    return tokenIds == null ? null : tokenIds.clone();
  }

  /** The token ids without a copy; callers must not modify the array. */
  int[] tokenIdsUnsafe() {
    return tokenIds;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationResult r && Objects.equals(id, r.id)
        && Objects.equals(completion, r.completion) && Arrays.equals(tokenIds, r.tokenIds)
        && promptTokens == r.promptTokens && completionTokens == r.completionTokens
        && finishReason == r.finishReason && Objects.equals(error, r.error)
        && Objects.equals(seed, r.seed) && provenance.equals(r.provenance);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, completion, Arrays.hashCode(tokenIds), promptTokens,
        completionTokens, finishReason, error, seed, provenance);
  }

  @Override
  public String toString() {
    // No completion text in logs: lengths only.
    return "GenerationResult[id=" + id + ", completionChars="
        + (completion == null ? "null" : completion.length()) + ", promptTokens=" + promptTokens
        + ", completionTokens=" + completionTokens + ", finishReason=" + finishReason
        + (error == null ? "" : ", error=" + error) + ", seed=" + seed + "]";
  }
}
