package io.batchgen.core.sampling;

import java.util.Arrays;
import java.util.List;

/**
 * How one sequence picks its next tokens and when it stops.
 *
 * <p>{@code temperature == 0} means greedy (argmax, ties to the lower token id); top-k, top-p and
 * min-p then have no effect. With a positive temperature the candidates are filtered by
 * {@code topK} (0 = off), {@code minP} (0 = off; keep tokens whose probability is at least
 * {@code minP} times the most likely one's) and {@code topP} (1 = off; smallest prefix of the
 * sorted candidates whose mass reaches {@code topP}), in that order, and one is drawn with a
 * random number derived only from {@code (seed, generation step)}: the same request gives the same
 * tokens alone, in any batch, and after migration.
 *
 * @param temperature    0 for greedy, else the softmax temperature
 * @param topK           keep the k most likely tokens; 0 disables
 * @param topP           nucleus mass in (0, 1]; 1 disables
 * @param minP           relative probability floor in [0, 1); 0 disables
 * @param seed           seed of this row's random stream
 * @param maxNewTokens   generated tokens at most (finish reason {@code length})
 * @param stopTokenIds   ids that end generation (finish reason {@code stop}); the stop token is
 *                       the last generated token
 * @param stopStrings    texts that end generation once the detokenized output contains them
 * @param ignoreEos      when false, the model's EOS ids also stop generation
 */
public record SamplingParams(
    double temperature,
    int topK,
    double topP,
    double minP,
    long seed,
    int maxNewTokens,
    int[] stopTokenIds,
    List<String> stopStrings,
    boolean ignoreEos) {

  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("Sampling temperature must be finite and >= 0, got "
          + temperature + "; use 0 for greedy decoding");
    }
    if (topK < 0) {
      throw new IllegalArgumentException("Sampling topK must be >= 0 (0 disables), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("Sampling topP must be in (0, 1] (1 disables), got "
          + topP);
    }
    if (!(minP >= 0 && minP < 1)) {
      throw new IllegalArgumentException("Sampling minP must be in [0, 1) (0 disables), got "
          + minP);
    }
    if (maxNewTokens <= 0) {
      throw new IllegalArgumentException("maxNewTokens must be positive, got " + maxNewTokens);
    }
    stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    for (String s : stopStrings) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("Stop strings must not be empty");
      }
    }
  }

  /** Greedy decoding of at most {@code maxNewTokens} tokens, stopping at the model's EOS. */
  public static SamplingParams greedy(int maxNewTokens) {
    return new SamplingParams(0, 0, 1, 0, 0, maxNewTokens, null, null, false);
  }

  /** Temperature sampling with a seed, no other filters. */
  public static SamplingParams seeded(double temperature, long seed, int maxNewTokens) {
    return new SamplingParams(temperature, 0, 1, 0, seed, maxNewTokens, null, null, false);
  }

  public boolean greedy() {
    return temperature == 0;
  }

  public SamplingParams withTopK(int k) {
    return new SamplingParams(temperature, k, topP, minP, seed, maxNewTokens, stopTokenIds,
        stopStrings, ignoreEos);
  }

  public SamplingParams withTopP(double p) {
    return new SamplingParams(temperature, topK, p, minP, seed, maxNewTokens, stopTokenIds,
        stopStrings, ignoreEos);
  }

  public SamplingParams withMinP(double p) {
    return new SamplingParams(temperature, topK, topP, p, seed, maxNewTokens, stopTokenIds,
        stopStrings, ignoreEos);
  }

  public SamplingParams withStopTokenIds(int... ids) {
    return new SamplingParams(temperature, topK, topP, minP, seed, maxNewTokens, ids,
        stopStrings, ignoreEos);
  }

  public SamplingParams withStopStrings(List<String> strings) {
    return new SamplingParams(temperature, topK, topP, minP, seed, maxNewTokens, stopTokenIds,
        strings, ignoreEos);
  }

  public SamplingParams withIgnoreEos(boolean ignore) {
    return new SamplingParams(temperature, topK, topP, minP, seed, maxNewTokens, stopTokenIds,
        stopStrings, ignore);
  }

  @Override
  public int[] stopTokenIds() {
    return stopTokenIds.clone();
  }

  /** Whether {@code token} is one of {@link #stopTokenIds()} (no copy). */
  public boolean isStopToken(int token) {
    for (int t : stopTokenIds) {
      if (t == token) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SamplingParams s && Double.compare(temperature, s.temperature) == 0
        && topK == s.topK && Double.compare(topP, s.topP) == 0
        && Double.compare(minP, s.minP) == 0 && seed == s.seed
        && maxNewTokens == s.maxNewTokens && Arrays.equals(stopTokenIds, s.stopTokenIds)
        && stopStrings.equals(s.stopStrings) && ignoreEos == s.ignoreEos;
  }

  @Override
  public int hashCode() {
    return Double.hashCode(temperature) * 31 + topK * 17 + Long.hashCode(seed) * 7
        + maxNewTokens + Arrays.hashCode(stopTokenIds) + stopStrings.hashCode();
  }

  @Override
  public String toString() {
    return "SamplingParams[temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
        + ", minP=" + minP + ", seed=" + seed + ", maxNewTokens=" + maxNewTokens
        + ", stopTokenIds=" + Arrays.toString(stopTokenIds) + ", stopStrings="
        + stopStrings.size() + ", ignoreEos=" + ignoreEos + "]";
  }
}
