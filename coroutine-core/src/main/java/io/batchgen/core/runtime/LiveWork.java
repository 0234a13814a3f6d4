package io.batchgen.core.runtime;

/**
 * The live sequences' remaining work and cached positions (the work gauges of
 * {@link RuntimeMetrics}: positions left to process, new tokens they may still generate, cached
 * positions, tokens generated so far), kept as running totals. A sequence's share depends only on
 * its token count and position, so each slot remembers the two it was counted with, and the
 * scheduler re-counts a slot whenever either changes: when it enters, at the end of each of its
 * steps, when a preemption sends it back to recompute, and when it leaves. Each change of a
 * slot's cached positions also goes to its listener ({@link ResultListener#inFlightPositions}),
 * which is how a caller learns the work done on its sequences before their results arrive.
 *
 * <p>Why not a pass over the live sequences when the gauges are published: they are published
 * after every module batch, and a runtime that holds a task's every row (thousands, most of them
 * waiting) then spent a fifth of its time in that pass on the {@code tiny} model (measured with
 * {@code bench rebalance}'s real part; see docs/benchmarks.md). Here a batch costs as much as
 * the steps it ends.
 *
 * <p>Not thread-safe: scheduler thread only.
 */
final class LiveWork {
  private final int maxPositions;
  private long positionsLeft;
  private long newTokensBound;
  private long cachedPositions;
  private long generated;

  /** @param maxPositions the model's context: no sequence generates past it */
  LiveWork(int maxPositions) {
    this.maxPositions = maxPositions;
  }

  /** Counts a sequence that entered the runtime (new, or restored with its position set). */
  void add(SequenceSlot s) {
    if (s.countedPosition >= 0) {
      throw new IllegalStateException("Sequence [" + s.id() + "] is counted already");
    }
    count(s, 1);
    tell(s, s.countedPosition);
  }

  /** Re-counts {@code s} after its position or tokens changed; a no-op for one not counted. */
  void update(SequenceSlot s) {
    if (s.countedPosition < 0) {
      return;
    }
    SequenceCoroutine q = s.seq;
    if (q.numTokens() != s.countedTokens || q.position() != s.countedPosition) {
      int before = s.countedPosition;
      uncount(s);
      count(s, 1);
      tell(s, s.countedPosition - before);
    }
  }

  /** Stops counting a sequence that left (finished, cancelled, failed or detached); idempotent. */
  void remove(SequenceSlot s) {
    if (s.countedPosition >= 0) {
      int before = s.countedPosition;
      uncount(s);
      tell(s, -before);
    }
  }

  private static void tell(SequenceSlot s, long delta) {
    if (delta != 0) {
      s.listener.inFlightPositions(delta);
    }
  }

  private void count(SequenceSlot s, int sign) {
    SequenceCoroutine q = s.seq;
    s.countedTokens = q.numTokens();
    s.countedPosition = q.position();
    add(q, s.countedTokens, s.countedPosition, sign);
  }

  private void uncount(SequenceSlot s) {
    add(s.seq, s.countedTokens, s.countedPosition, -1);
    s.countedPosition = -1;
  }

  private void add(SequenceCoroutine q, int tokens, int position, int sign) {
    int generatedHere = tokens - q.promptLength;
    positionsLeft += sign * (long) (tokens - position);
    newTokensBound += sign * (long) Math.max(0, tokenBound(q) - generatedHere);
    cachedPositions += sign * (long) position;
    generated += sign * (long) generatedHere;
  }

  /** Tokens {@code q} may generate in all: its max new tokens, within the model's context. */
  int tokenBound(SequenceCoroutine q) {
    return Math.min(q.params.maxNewTokens(), maxPositions - q.promptLength);
  }

  /** Publishes the totals as the work gauges. */
  void publish(MetricsRecorder metrics) {
    metrics.work(positionsLeft, newTokensBound, cachedPositions, generated);
  }
}
