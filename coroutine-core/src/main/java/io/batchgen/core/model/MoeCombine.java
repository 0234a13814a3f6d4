package io.batchgen.core.model;

/**
 * The one definition of how a token's MoE block output is folded back into its residual stream,
 * shared by the coroutine runtime and every simple forward driver so that they agree bitwise:
 *
 * <pre>
 *   acc = 0
 *   for j in 0 .. topK-1 (router rank order):  acc += weight[j] * expertOut[j]
 *   if shared expert:                          acc += sharedOut        (gate already applied)
 *   residual += acc
 * </pre>
 */
public final class MoeCombine {
  private MoeCombine() {
  }

  /** {@code acc[accOff + i] += weight * y[yOff + i]} for {@code i < n}. */
  public static void accumulate(float[] acc, int accOff, float[] y, int yOff, float weight, int n) {
    for (int i = 0; i < n; i++) {
      acc[accOff + i] += weight * y[yOff + i];
    }
  }

  /** {@code acc[accOff + i] += y[yOff + i]} for {@code i < n}. */
  public static void add(float[] acc, int accOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      acc[accOff + i] += y[yOff + i];
    }
  }
}
