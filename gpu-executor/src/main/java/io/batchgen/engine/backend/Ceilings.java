package io.batchgen.engine.backend;

import java.util.concurrent.CountDownLatch;
import java.util.function.IntUnaryOperator;

/**
 * This machine's limits, measured in the same run as the benchmark that reports against them
 * (cloud machines differ, and other tenants change them by the minute): the register-only FMA
 * rate at a vector width, and the rate of streaming reads from memory. No kernel can beat
 * either; kernel figures are reported as fractions of them.
 *
 * <p>Each measurement runs its threads at once and keeps the best of its rounds, the one least
 * disturbed by other work. Holds a buffer much larger than the caches; create one per benchmark.
 */
public final class Ceilings {
  /** Floats streamed per read round: 256 MiB, far past any last-level cache. */
  private static final int READ_FLOATS = 64 << 20;
  private final float[] buffer;

  public Ceilings() {
    buffer = new float[READ_FLOATS];
    java.util.Arrays.fill(buffer, 1e-3f);
  }

  /**
   * fp32 GFLOP/s of {@code threads} threads running twelve independent FMA chains each at
   * {@code width}: best of {@code rounds} rounds of about 0.1 s (after a warm-up).
   */
  public double fmaGflops(VectorWidth width, int threads, int rounds) {
    SimdKernels simd = SimdKernels.of(width);
    int iterations = 160_000_000 / simd.lanes() / (width.bits() > VectorWidth.preferred().bits()
        ? 64 : 1);
    simd.spin(iterations / 80);
    double best = 0;
    for (int r = 0; r < rounds; r++) {
      double secs = parallel(threads, t -> Float.floatToRawIntBits(simd.spin(iterations)));
      best = Math.max(best, 2.0 * 12 * simd.lanes() * (double) iterations * threads / secs / 1e9);
    }
    return best;
  }

  /** GB/s of {@code threads} threads each reading its share of 256 MiB once: best of rounds. */
  public double readGBs(int threads, int rounds) {
    SimdKernels simd = SimdKernels.of(VectorWidth.preferred());
    simd.stream(buffer, 0, 1 << 20);
    double best = 0;
    for (int r = 0; r < rounds; r++) {
      double secs = parallel(threads, t -> Float.floatToRawIntBits(simd.stream(buffer,
          (int) ((long) READ_FLOATS * t / threads), (int) ((long) READ_FLOATS * (t + 1)
              / threads))));
      best = Math.max(best, 4.0 * READ_FLOATS / secs / 1e9);
    }
    return best;
  }

  /** Seconds from releasing {@code threads} threads running {@code body(t)} until all end. */
  private static double parallel(int threads, IntUnaryOperator body) {
    CountDownLatch start = new CountDownLatch(1);
    Thread[] workers = new Thread[threads];
    int[] sink = new int[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        sink[id] = body.applyAsInt(id);
      }, "ceiling-" + t);
      workers[t].start();
    }
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while measuring a ceiling", e);
      }
    }
    double secs = (System.nanoTime() - t0) * 1e-9;
    int check = 0;
    for (int s : sink) {
      check ^= s;
    }
    if (check == 0x7fc00000) {
      throw new IllegalStateException("Ceiling loop produced NaN");
    }
    return secs;
  }
}
