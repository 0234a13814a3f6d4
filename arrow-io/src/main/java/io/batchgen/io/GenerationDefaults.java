package io.batchgen.io;

import io.batchgen.core.sampling.SamplingParams;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A job's generation settings, and the one place where a row's own overrides are applied to
 * them. Precedence, highest first: the row's column ({@link GenerationOverrides}), then the job's
 * value here (which its caller resolved from a DataFrame option, the session conf or the default,
 * in that order).
 *
 * @param maxNewTokens generated tokens per row at most
 * @param temperature  0 is greedy
 * @param topP         nucleus mass, in (0, 1]
 * @param topK         0 disables
 * @param minP         in [0, 1); 0 disables
 * @param seed         the job seed: a row without its own seed samples with a seed derived
 *                     from this and the row id, so results do not depend on partitioning
 * @param stop         stop strings
 * @param ignoreEos    keep generating past the model's EOS, up to max new tokens
 */
public record GenerationDefaults(int maxNewTokens, double temperature, double topP, int topK,
    double minP, long seed, List<String> stop, boolean ignoreEos) implements Serializable {

  public GenerationDefaults {
    stop = List.copyOf(stop);
  }

  /**
   * The sampling of one row: each of its overrides that is set, else the job's value.
   *
   * @throws IllegalArgumentException when the combination is invalid (SamplingParams' message)
   */
  public SamplingParams forRow(String rowId, GenerationOverrides row) {
    double t = row.temperature() != null ? row.temperature() : temperature;
    Long s = seedFor(rowId, row);
    return new SamplingParams(t, row.topK() != null ? row.topK() : topK,
        row.topP() != null ? row.topP() : topP, minP, s == null ? 0 : s,
        row.maxNewTokens() != null ? row.maxNewTokens() : maxNewTokens, null,
        row.stop() != null ? row.stop() : stop, ignoreEos);
  }

  /** The seed the row samples with (written to the result table), or null when it is greedy. */
  public Long seedFor(String rowId, GenerationOverrides row) {
    double t = row.temperature() != null ? row.temperature() : temperature;
    if (t == 0) {
      return null;
    }
    return row.seed() != null ? row.seed() : rowSeed(seed, rowId);
  }

  /** A row's own seed: the job seed mixed with a stable hash of the id (SplitMix64 finaliser). */
  static long rowSeed(long base, String id) {
    long h = base;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001B3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }
}
