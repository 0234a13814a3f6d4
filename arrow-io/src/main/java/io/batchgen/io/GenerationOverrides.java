package io.batchgen.io;

import java.util.List;

/**
 * Per-row sampling settings that override the job's options. Every field is nullable: null means
 * "use the job option". Values are validated when the row is read ({@link #validate()}).
 *
 * @param maxNewTokens column {@code max_new_tokens}: at least 1
 * @param temperature  column {@code temperature}: finite, at least 0 (0 is greedy)
 * @param topP         column {@code top_p}: in (0, 1]
 * @param topK         column {@code top_k}: at least 0 (0 disables top-k)
 * @param seed         column {@code seed}: any long
 * @param stop         column {@code stop}: stop strings, none empty; null means the job's
 */
public record GenerationOverrides(
    Integer maxNewTokens,
    Double temperature,
    Double topP,
    Integer topK,
    Long seed,
    List<String> stop) {

  /** No overrides: every setting comes from the job. */
  public static final GenerationOverrides NONE =
      new GenerationOverrides(null, null, null, null, null, null);

  public GenerationOverrides {
    stop = stop == null ? null : List.copyOf(stop);
  }

  /** Whether no field is set. */
  public boolean isEmpty() {
    return maxNewTokens == null && temperature == null && topP == null && topK == null
        && seed == null && stop == null;
  }

  /**
   * Checks the ranges; returns the column name and the reason of the first problem, or null when
   * all set values are valid.
   */
  public String[] validate() {
    if (maxNewTokens != null && maxNewTokens < 1) {
      return new String[] {PromptSchema.MAX_NEW_TOKENS,
          "max_new_tokens is " + maxNewTokens + " but must be at least 1"};
    }
    if (temperature != null && !(temperature >= 0 && Double.isFinite(temperature))) {
      return new String[] {PromptSchema.TEMPERATURE,
          "temperature is " + temperature + " but must be a finite number >= 0 (0 is greedy)"};
    }
    if (topP != null && !(topP > 0 && topP <= 1)) {
      return new String[] {PromptSchema.TOP_P, "top_p is " + topP + " but must be in (0, 1]"};
    }
    if (topK != null && topK < 0) {
      return new String[] {PromptSchema.TOP_K,
          "top_k is " + topK + " but must be >= 0 (0 disables top-k)"};
    }
    if (stop != null) {
      for (int i = 0; i < stop.size(); i++) {
        if (stop.get(i) == null || stop.get(i).isEmpty()) {
          return new String[] {PromptSchema.STOP,
              "stop string " + i + " is " + (stop.get(i) == null ? "null" : "empty")
                  + "; every stop string must be non-empty"};
        }
      }
    }
    return null;
  }
}
