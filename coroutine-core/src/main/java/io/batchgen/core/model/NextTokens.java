package io.batchgen.core.model;

import io.batchgen.core.sampling.Sampler;
import io.batchgen.core.sampling.SamplingParams;

/**
 * What the LM head step needs besides the hidden rows: each row's sampling parameters and
 * generation step, in; each row's next token, or why sampling it failed, out. See
 * {@link ModuleExecutor#lmHeadNextTokens}. The choice rules are {@link Sampler}'s: a pure
 * function of the row's logits, its parameters and {@code (seed, step)}.
 *
 * <p>Not thread-safe: owned by the runtime thread, lent to the executor for one call.
 */
public final class NextTokens {
  private final Sampler sampler = new Sampler();
  private int rows;
  private SamplingParams[] params = new SamplingParams[0];
  private int[] steps = new int[0];
  private int[] tokens = new int[0];
  private RuntimeException[] failures = new RuntimeException[0];

  /** Sizes for {@code rows} rows and clears the answers. */
  public NextTokens reset(int rows) {
    this.rows = rows;
    if (params.length < rows) {
      int cap = Math.max(rows, params.length * 2);
      params = new SamplingParams[cap];
      steps = new int[cap];
      tokens = new int[cap];
      failures = new RuntimeException[cap];
    }
    java.util.Arrays.fill(tokens, 0, rows, -1);
    java.util.Arrays.fill(failures, 0, rows, null);
    return this;
  }

  /** Sets row {@code i}'s parameters and its generation step (0 for the first new token). */
  public void set(int i, SamplingParams p, int step) {
    params[i] = p;
    steps[i] = step;
  }

  public int rows() {
    return rows;
  }

  public SamplingParams params(int i) {
    return params[i];
  }

  public int step(int i) {
    return steps[i];
  }

  /** Whether row {@code i} is greedy (argmax, ties to the lower id). */
  public boolean greedy(int i) {
    return params[i].greedy() || params[i].topK() == 1;
  }

  /** Records row {@code i}'s token. */
  public void choose(int i, int token) {
    tokens[i] = token;
  }

  /** Records that sampling row {@code i} failed. */
  public void fail(int i, RuntimeException e) {
    failures[i] = e;
  }

  /** Row {@code i}'s token, or -1 when it failed. */
  public int token(int i) {
    return tokens[i];
  }

  /** Why row {@code i} failed, or null. */
  public RuntimeException failure(int i) {
    return failures[i];
  }

  /**
   * Samples row {@code i} on the host from {@code logits[offset .. offset + vocab)} with the
   * shared {@link Sampler}, recording the token or the failure.
   */
  public void sampleOnHost(int i, float[] logits, int offset, int vocab) {
    try {
      choose(i, sampler.sample(logits, offset, vocab, params[i], steps[i]));
    } catch (RuntimeException e) {
      fail(i, e);
    }
  }
}
