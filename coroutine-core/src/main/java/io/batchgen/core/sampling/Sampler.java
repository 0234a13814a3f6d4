package io.batchgen.core.sampling;

import java.util.Arrays;

/**
 * Picks one token from one row of logits according to a sequence's {@link SamplingParams}.
 *
 * <p>The random number for generation step {@code step} is a pure function of
 * {@code (seed, step)} (a SplitMix64 mix), so a row's tokens never depend on which other rows
 * shared its batch, on scheduling, or on where the sequence ran before a migration. Candidates are
 * ranked by probability with ties broken by the lower token id, and masses are summed in that
 * fixed order in double precision.
 *
 * <p>Not thread-safe: holds scratch arrays sized to the vocabulary; one per scheduler thread.
 */
public final class Sampler {
  private long[] keys = new long[0];
  private double[] probs = new double[0];

  /** Argmax of {@code logits[offset .. offset + vocab)}, ties to the lower id. */
  public static int argmax(float[] logits, int offset, int vocab) {
    int best = 0;
    float bestValue = logits[offset];
    for (int i = 1; i < vocab; i++) {
      float v = logits[offset + i];
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }

  /** The uniform number in [0, 1) that step {@code step} of a row with {@code seed} draws. */
  public static double uniform(long seed, int step) {
    long z = seed * 0x9E3779B97F4A7C15L + (step + 1L) * 0xD1B54A32D192ED03L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }

  /**
   * Samples the token for generation step {@code step} (0 for the first generated token) from
   * {@code logits[offset .. offset + vocab)}.
   */
  public int sample(float[] logits, int offset, int vocab, SamplingParams p, int step) {
    if (p.greedy() || p.topK() == 1) {
      return argmax(logits, offset, vocab);
    }
    if (keys.length < vocab) {
      keys = new long[vocab];
      probs = new double[vocab];
    }
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    if (!Float.isFinite(max)) {
      throw new IllegalStateException("Logits contain no finite maximum (max=" + max
          + "); the model produced NaN or infinite values");
    }
    double invT = 1.0 / p.temperature();
    // Unnormalised probabilities; the most likely token has weight exactly 1.
    double minWeight = p.minP();
    int n = 0;
    for (int i = 0; i < vocab; i++) {
      double w = Math.exp((logits[offset + i] - max) * invT);
      if (w >= minWeight && w > 0) {
        probs[i] = w;
        // Ascending key order = descending weight, then ascending id.
        keys[n++] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits((float) w)) << 32) | i;
      }
    }
    if (p.topK() > 0 && p.topK() < n) {
      n = selectSmallest(keys, n, p.topK());
    }
    Arrays.sort(keys, 0, n);
    double total = 0;
    for (int c = 0; c < n; c++) {
      total += probs[(int) keys[c]];
    }
    if (p.topP() < 1) {
      double kept = 0;
      int cut = n;
      for (int c = 0; c < n; c++) {
        kept += probs[(int) keys[c]];
        if (kept >= p.topP() * total) {
          cut = c + 1;
          break;
        }
      }
      n = cut;
      total = kept;
    }
    double target = uniform(p.seed(), step) * total;
    double acc = 0;
    for (int c = 0; c < n; c++) {
      acc += probs[(int) keys[c]];
      if (target < acc) {
        return (int) keys[c];
      }
    }
    return (int) keys[n - 1];
  }

  /** Moves the {@code k} smallest of {@code a[0..n)} to {@code a[0..k)}; returns k. */
  private static int selectSmallest(long[] a, int n, int k) {
    int lo = 0;
    int hi = n - 1;
    while (lo < hi) {
      long pivot = a[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      }
      if (k - 1 <= j) {
        hi = j;
      } else if (k - 1 >= i) {
        lo = i;
      } else {
        break;
      }
    }
    return k;
  }
}
