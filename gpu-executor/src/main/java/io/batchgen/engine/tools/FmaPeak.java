package io.batchgen.engine.tools;

import java.util.concurrent.CountDownLatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fp32 FMA ceiling of this machine as the Vector API reaches it: twelve independent vector
 * accumulators updated in registers, no memory traffic, on {@code threads} threads at once. No
 * GEMM can beat it, so kernel GFLOP/s are reported against it, measured in the same run (cloud
 * machines differ: AVX2 cores with 128-bit FMA units reach half the rate of those with 256-bit
 * ones at the same clock).
 */
final class FmaPeak {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  private FmaPeak() {
  }

  /**
   * GFLOP/s of all {@code threads} together, best of {@code rounds} rounds of about 0.1 s each
   * (after a warm-up that gets the loop compiled): the best round is the one least disturbed by
   * other work on a shared machine.
   */
  static double gflops(int threads, int rounds) {
    once(threads, 2_000_000);
    double best = 0;
    for (int r = 0; r < rounds; r++) {
      best = Math.max(best, once(threads, 160_000_000 / S.length()));
    }
    return best;
  }

  private static double once(int threads, int iterations) {
    CountDownLatch start = new CountDownLatch(1);
    Thread[] workers = new Thread[threads];
    float[] sink = new float[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        sink[id] = spin(iterations);
      }, "fma-peak-" + t);
      workers[t].start();
    }
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while measuring the FMA peak", e);
      }
    }
    double secs = (System.nanoTime() - t0) * 1e-9;
    float check = 0;
    for (float s : sink) {
      check += s;
    }
    if (Float.isNaN(check)) {
      throw new IllegalStateException("FMA peak loop produced NaN");
    }
    return 2.0 * 12 * S.length() * (double) iterations * threads / secs / 1e9;
  }

  /**
   * Twelve independent FMA chains, the accumulator as the addend (as a GEMM kernel holds it; as
   * a multiplicand C2 adds a register move per FMA). The result keeps the JIT from dropping the
   * loop.
   */
  private static float spin(int iterations) {
    FloatVector a = FloatVector.broadcast(S, 1.0000001f);
    FloatVector b = FloatVector.broadcast(S, 1e-7f);
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = c0;
    FloatVector c2 = c0;
    FloatVector c3 = c0;
    FloatVector c4 = c0;
    FloatVector c5 = c0;
    FloatVector c6 = c0;
    FloatVector c7 = c0;
    FloatVector c8 = c0;
    FloatVector c9 = c0;
    FloatVector c10 = c0;
    FloatVector c11 = c0;
    for (int i = 0; i < iterations; i++) {
      c0 = a.fma(b, c0);
      c1 = a.fma(b, c1);
      c2 = a.fma(b, c2);
      c3 = a.fma(b, c3);
      c4 = a.fma(b, c4);
      c5 = a.fma(b, c5);
      c6 = a.fma(b, c6);
      c7 = a.fma(b, c7);
      c8 = a.fma(b, c8);
      c9 = a.fma(b, c9);
      c10 = a.fma(b, c10);
      c11 = a.fma(b, c11);
    }
    return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10)
        .add(c11).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
  }
}
