package io.batchgen.core.rebalance;

import io.batchgen.core.runtime.RuntimeMetrics;

/**
 * Turns what an executor knows of one runtime (its {@link RuntimeMetrics} and the speeds measured
 * between reports) into the {@link ExecutorLoad} the policy acts on. One definition of load,
 * shared by the executors of the live system (their load reports) and by the cluster simulation
 * of {@code bin/batchgen bench rebalance}, so that the simulated policy sees what the real one
 * would.
 *
 * <p>Remaining work is the positions still to prefill plus the new tokens expected
 * ({@link #expectedNewTokens}); speed is tokens (prefilled and generated) per second, smoothed
 * over reports ({@link Rate}).
 */
public final class LoadEstimator {
  private LoadEstimator() {
  }

  /**
   * The load of one runtime.
   *
   * @param executorId         who reports
   * @param spec               the model setting the runtime runs
   * @param metrics            the runtime's metrics, read now
   * @param rate               its speeds, observed with the same metrics
   * @param kvBytesPerPosition KV bytes one cached position costs to ship, all layers
   * @param maxRunning         sequences the runtime holds KV for at once
   * @param migrationsInFlight moves into or out of this executor not settled yet
   * @param staying            of the runtime's live sequences, those that may not move (run
   *                           for other executors, or of jobs that opted out of rebalancing)
   */
  public static ExecutorLoad estimate(String executorId, String spec, RuntimeMetrics metrics,
      Rate rate, long kvBytesPerPosition, int maxRunning, int migrationsInFlight, int staying) {
    int holding = metrics.running() + metrics.parked();
    double meanCached = holding == 0 ? 0 : (double) metrics.cachedPositions() / holding;
    return new ExecutorLoad(executorId, spec, metrics.queued(), metrics.running(),
        metrics.parked(), metrics.positionsLeft(), expectedNewTokens(metrics),
        rate.tokensPerSecond(), rate.prefillPerSecond(), kvBytesPerPosition, meanCached,
        maxRunning, migrationsInFlight, staying);
  }

  /**
   * Tokens the live sequences are expected to generate: each is expected to use the share of
   * its bound (max new tokens within the context) that the sequences that stopped here used,
   * in total over all of them; while none has stopped, its whole bound. No live sequence is
   * expected to need less than one more token, and none more than its bound.
   *
   * <p>When every row has the same {@code max_new_tokens} this is the mean completion length of
   * the rows finished so far; when a row's {@code max_new_tokens} is set to its expected length
   * (a per-row column), the estimate follows each row's own.
   */
  public static long expectedNewTokens(RuntimeMetrics m) {
    long live = m.queued() + m.running() + m.parked();
    if (m.completedBound() == 0 || live == 0) {
      return m.newTokensBound();
    }
    double used = (double) m.completedGenerated() / m.completedBound();
    long liveBound = m.newTokensBound() + m.liveGenerated();
    long expected = Math.round(used * liveBound) - m.liveGenerated();
    return Math.max(Math.min(m.newTokensBound(), live), Math.min(m.newTokensBound(), expected));
  }

  /**
   * Tokens processed per second (generated and prefilled), and prefill positions per second,
   * measured between successive observations and smoothed (each new window weighs 0.3). A window
   * in which nothing was processed leaves the figures as they were, so an executor that ran dry
   * keeps the speed it had. Thread-safe.
   */
  public static final class Rate {
    private long lastNanos = Long.MIN_VALUE;
    private long lastTokens;
    private long lastPrefill;
    private double tokensPerSecond;
    private double prefillPerSecond;

    /** Observes the runtime's counters at {@code nowNanos} (any monotonic clock). */
    public synchronized void observe(RuntimeMetrics m, long nowNanos) {
      long tokens = m.generatedTokens() + m.prefillTokens();
      if (lastNanos != Long.MIN_VALUE) {
        double seconds = (nowNanos - lastNanos) / 1e9;
        if (tokens > lastTokens && seconds > 0) {
          double r = (tokens - lastTokens) / seconds;
          tokensPerSecond = tokensPerSecond == 0 ? r : 0.7 * tokensPerSecond + 0.3 * r;
        }
        if (m.prefillTokens() > lastPrefill && seconds > 0) {
          double p = (m.prefillTokens() - lastPrefill) / seconds;
          prefillPerSecond = prefillPerSecond == 0 ? p : 0.7 * prefillPerSecond + 0.3 * p;
        }
      }
      lastNanos = nowNanos;
      lastTokens = tokens;
      lastPrefill = m.prefillTokens();
    }

    /** Tokens per second; 0 until a window saw any. */
    public synchronized double tokensPerSecond() {
      return tokensPerSecond;
    }

    /** Prefill positions per second; 0 until a window saw any. */
    public synchronized double prefillPerSecond() {
      return prefillPerSecond;
    }
  }
}
