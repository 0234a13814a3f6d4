package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKind;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counters written by the scheduler thread and read from any thread. */
final class MetricsRecorder {
  private static final int KINDS = ModuleKind.values().length;
  private static final int GENERATED = 0;
  private static final int PREFILL = 1;
  private static final int FINISHED = 2;
  private static final int PARKS = 3;
  private static final int RECOMPUTES = 4;
  private static final int KV_USED = 5;
  private static final int KV_TOTAL = 6;
  private static final int KV_PEAK = 7;
  private static final int HOST_BYTES = 8;
  private static final int QUEUED = 9;
  private static final int RUNNING = 10;
  private static final int PARKED = 11;
  private static final int POSITIONS_LEFT = 12;
  private static final int NEW_TOKENS_BOUND = 13;
  private static final int CACHED_POSITIONS = 14;
  private static final int LIVE_GENERATED = 15;
  private static final int COMPLETED_GENERATED = 16;
  private static final int COMPLETED_BOUND = 17;
  private static final int BATCHES = 18;
  private static final int ROWS = BATCHES + KINDS;
  private static final int WAIT = ROWS + KINDS;
  private static final int NANOS = WAIT + KINDS;
  private final AtomicLongArray v = new AtomicLongArray(NANOS + KINDS);
  private final AtomicLongArray expertSizes =
      new AtomicLongArray(RuntimeMetrics.EXPERT_BATCH_BUCKETS);

  void batch(ModuleKind kind, int rows, long waitNanos, long moduleNanos) {
    int k = kind.ordinal();
    if (kind == ModuleKind.EXPERT && rows > 0) {
      expertSizes.incrementAndGet(RuntimeMetrics.expertBatchBucket(rows));
    }
    v.incrementAndGet(BATCHES + k);
    v.addAndGet(ROWS + k, rows);
    v.addAndGet(WAIT + k, waitNanos);
    v.addAndGet(NANOS + k, moduleNanos);
  }

  long totalModuleNanos() {
    long t = 0;
    for (int k = 0; k < KINDS; k++) {
      t += v.get(NANOS + k);
    }
    return t;
  }

  void generated() {
    v.incrementAndGet(GENERATED);
  }

  void prefill(int tokens) {
    v.addAndGet(PREFILL, tokens);
  }

  void finished() {
    v.incrementAndGet(FINISHED);
  }

  /** A sequence stopped by itself (stop or length) after {@code generated} of {@code bound}. */
  void completed(int generated, int bound) {
    v.addAndGet(COMPLETED_GENERATED, generated);
    v.addAndGet(COMPLETED_BOUND, bound);
  }

  void parked() {
    v.incrementAndGet(PARKS);
  }

  void recomputed() {
    v.incrementAndGet(RECOMPUTES);
  }

  void gauges(int kvUsed, int kvTotal, int kvPeak, long hostBytes, int queued, int running,
      int parked) {
    v.set(KV_USED, kvUsed);
    v.set(KV_TOTAL, kvTotal);
    v.set(KV_PEAK, kvPeak);
    v.set(HOST_BYTES, hostBytes);
    v.set(QUEUED, queued);
    v.set(RUNNING, running);
    v.set(PARKED, parked);
  }

  /** The live sequences' remaining work (see {@link RuntimeMetrics}). */
  void work(long positionsLeft, long newTokensBound, long cachedPositions, long liveGenerated) {
    v.set(POSITIONS_LEFT, positionsLeft);
    v.set(NEW_TOKENS_BOUND, newTokensBound);
    v.set(CACHED_POSITIONS, cachedPositions);
    v.set(LIVE_GENERATED, liveGenerated);
  }

  RuntimeMetrics snapshot() {
    long[] b = new long[KINDS];
    long[] r = new long[KINDS];
    long[] w = new long[KINDS];
    long[] n = new long[KINDS];
    for (int k = 0; k < KINDS; k++) {
      b[k] = v.get(BATCHES + k);
      r[k] = v.get(ROWS + k);
      w[k] = v.get(WAIT + k);
      n[k] = v.get(NANOS + k);
    }
    long[] sizes = new long[expertSizes.length()];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = expertSizes.get(i);
    }
    return new RuntimeMetrics(v.get(GENERATED), v.get(PREFILL), v.get(FINISHED),
        RuntimeMetrics.perKind(b), RuntimeMetrics.perKind(r), RuntimeMetrics.perKind(w),
        RuntimeMetrics.perKind(n), (int) v.get(KV_USED), (int) v.get(KV_TOTAL),
        (int) v.get(KV_PEAK), v.get(PARKS), v.get(RECOMPUTES), v.get(HOST_BYTES),
        (int) v.get(QUEUED), (int) v.get(RUNNING), (int) v.get(PARKED), v.get(POSITIONS_LEFT),
        v.get(NEW_TOKENS_BOUND), v.get(CACHED_POSITIONS), v.get(LIVE_GENERATED),
        v.get(COMPLETED_GENERATED), v.get(COMPLETED_BOUND), sizes);
  }
}
