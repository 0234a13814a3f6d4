package io.batchgen.core.sim;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The rows of a simulated job: each row's prompt length and the exact number of tokens it
 * generates (its max new tokens; the simulated model never emits EOS). Prompt tokens are a pure
 * function of {@code (seed, row, position)}, made when the row is submitted, so a workload of
 * 128,000 rows holds two ints per row.
 */
public final class Workload {

  /** Longest prompt of {@link #pinned}. */
  public static final int MAX_PROMPT = 512;
  /** Longest output of {@link #pinned}. */
  public static final int MAX_OUTPUT = 2048;

  private final String name;
  private final long seed;
  private final int[] prompt;
  private final int[] output;

  /**
   * @param name   short description for tables
   * @param seed   seeds the prompt tokens
   * @param prompt per row, prompt tokens (at least 1)
   * @param output per row, tokens to generate (at least 1)
   */
  public Workload(String name, long seed, int[] prompt, int[] output) {
    if (prompt.length != output.length || prompt.length == 0) {
      throw new IllegalArgumentException("A workload needs as many prompt as output lengths, at"
          + " least one row; got " + prompt.length + " and " + output.length);
    }
    for (int i = 0; i < prompt.length; i++) {
      if (prompt[i] < 1 || output[i] < 1) {
        throw new IllegalArgumentException("Workload row " + i + " has prompt " + prompt[i]
            + " and output " + output[i] + "; both must be at least 1");
      }
    }
    this.name = name;
    this.seed = seed;
    this.prompt = prompt.clone();
    this.output = output.clone();
  }

  public String name() {
    return name;
  }

  public long seed() {
    return seed;
  }

  /**
   * The workload of {@code bench rebalance}, ordered by source as real tables often are:
   * prompts uniform in [16, 512] tokens; the first third of the rows short answers (outputs
   * uniform in [1, 8]), the middle third chat (Pareto with alpha 1.5 from 32, capped at 2,048:
   * mean about 90), the last third long-form (uniform in [512, 2,048]).
   */
  public static Workload pinned(int rows, long seed) {
    if (rows < 3) {
      throw new IllegalArgumentException("The pinned workload has three sources; give at least 3"
          + " rows, got " + rows);
    }
    SplittableRandom r = new SplittableRandom(seed);
    int[] prompt = new int[rows];
    int[] output = new int[rows];
    int chatFrom = rows / 3;
    int longFrom = 2 * rows / 3;
    for (int i = 0; i < rows; i++) {
      prompt[i] = r.nextInt(16, MAX_PROMPT + 1);
      if (i < chatFrom) {
        output[i] = r.nextInt(1, 9);
      } else if (i < longFrom) {
        double u = 1 - r.nextDouble(); // (0, 1]
        output[i] = (int) Math.min(MAX_OUTPUT, Math.floor(32 / Math.pow(u, 1 / 1.5)));
      } else {
        output[i] = r.nextInt(512, MAX_OUTPUT + 1);
      }
    }
    return new Workload("pinned(" + rows + " rows, seed " + seed + ")", seed, prompt, output);
  }

  public int rows() {
    return prompt.length;
  }

  /** Prompt lengths per row (a copy). */
  public int[] prompt() {
    return prompt.clone();
  }

  /** Output lengths per row (a copy). */
  public int[] output() {
    return output.clone();
  }

  int promptLength(int row) {
    return prompt[row];
  }

  int outputLength(int row) {
    return output[row];
  }

  /** Prompt token {@code i} of {@code row}: never EOS. */
  int promptToken(int row, int i) {
    long h = SimulatedExecutor.mix(seed * 0x9E3779B97F4A7C15L + row * 0xC2B2AE3D27D4EB4FL + i);
    return 1 + (int) Long.remainderUnsigned(h, SimulatedExecutor.VOCAB - 1);
  }

  /** The prompt tokens of {@code row}. */
  int[] promptTokens(int row) {
    int[] t = new int[prompt[row]];
    for (int i = 0; i < t.length; i++) {
      t[i] = promptToken(row, i);
    }
    return t;
  }

  /** Whether {@code tokens} are exactly what the simulated model generates for {@code row}. */
  boolean expected(int row, int[] tokens) {
    if (tokens.length != output[row]) {
      return false;
    }
    int p = prompt[row];
    int last = promptToken(row, p - 1);
    for (int j = 0; j < tokens.length; j++) {
      last = SimulatedExecutor.nextToken(last, p - 1 + j);
      if (tokens[j] != last) {
        return false;
      }
    }
    return true;
  }

  long totalOutput() {
    return Arrays.stream(output).asLongStream().sum();
  }

  long totalPrompt() {
    return Arrays.stream(prompt).asLongStream().sum();
  }
}
