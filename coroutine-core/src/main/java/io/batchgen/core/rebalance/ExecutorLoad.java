package io.batchgen.core.rebalance;

/**
 * One executor's load for one model setting, as its latest report says.
 *
 * @param executorId           who reports
 * @param spec                 which model setting the sequences run under (an opaque key: moves
 *                             only happen between executors running, or able to run, the same)
 * @param queued               sequences admitted to the runtime, not yet started
 * @param running              sequences holding KV (in a step or between steps)
 * @param parked               sequences whose KV waits in the host tier
 * @param positionsLeft        positions the live sequences still have to process (prefill)
 * @param expectedNewTokens    tokens the live sequences are expected to still generate
 * @param tokensPerSecond      tokens (positions processed plus tokens generated) this executor
 *                             processes per second while busy, measured; 0 when unknown
 * @param prefillTokensPerSecond positions per second a prefill-heavy step runs at; 0 unknown
 * @param kvBytesPerPosition   KV bytes one cached position costs to ship
 * @param meanCachedPositions  mean positions cached per running sequence
 * @param maxRunning           sequences this executor's runtime holds KV for at once
 * @param migrationsInFlight   moves into or out of this executor not yet settled, or settled
 *                             after the report this load comes from (the driver's count)
 * @param staying              of its sequences, those that stay: run for other executors (moved
 *                             in: they do not move on), or of a job that opted out of
 *                             rebalancing; only the others can be handed over
 */
public record ExecutorLoad(String executorId, String spec, int queued, int running, int parked,
    long positionsLeft, long expectedNewTokens, double tokensPerSecond,
    double prefillTokensPerSecond, long kvBytesPerPosition, double meanCachedPositions,
    int maxRunning, int migrationsInFlight, int staying) {

  /** A load of which every sequence may move. */
  public ExecutorLoad(String executorId, String spec, int queued, int running, int parked,
      long positionsLeft, long expectedNewTokens, double tokensPerSecond,
      double prefillTokensPerSecond, long kvBytesPerPosition, double meanCachedPositions,
      int maxRunning, int migrationsInFlight) {
    this(executorId, spec, queued, running, parked, positionsLeft, expectedNewTokens,
        tokensPerSecond, prefillTokensPerSecond, kvBytesPerPosition, meanCachedPositions,
        maxRunning, migrationsInFlight, 0);
  }

  /** The same load with {@code n} moves in flight, as the driver counts them. */
  public ExecutorLoad withMigrationsInFlight(int n) {
    return new ExecutorLoad(executorId, spec, queued, running, parked, positionsLeft,
        expectedNewTokens, tokensPerSecond, prefillTokensPerSecond, kvBytesPerPosition,
        meanCachedPositions, maxRunning, n, staying);
  }

  /** Sequences it may hand over: those that do not stay. */
  public int movable() {
    return Math.max(0, sequences() - staying);
  }

  /** Sequences the executor holds for this setting. */
  public int sequences() {
    return queued + running + parked;
  }

  /** Remaining work in tokens. */
  public long work() {
    return positionsLeft + expectedNewTokens;
  }

  /** An executor that reports no work for the setting (it can receive). */
  public static ExecutorLoad idle(String executorId, String spec, double tokensPerSecond,
      int maxRunning) {
    return new ExecutorLoad(executorId, spec, 0, 0, 0, 0, 0, tokensPerSecond, 0, 0, 0,
        maxRunning, 0);
  }
}
