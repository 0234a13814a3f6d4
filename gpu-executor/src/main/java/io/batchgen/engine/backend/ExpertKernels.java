package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;

/**
 * A whole SwiGLU expert FFN over a batch of rows, {@code out = down(silu(gate(x)) * up(x))}, as
 * the backends run it. Public for benchmarks and tools that time the kernel without a model.
 */
public final class ExpertKernels {
  private ExpertKernels() {
  }

  /**
   * One expert FFN implementation. Lifecycle: created per benchmark or executor, used from one
   * thread at a time, closed to stop its workers.
   */
  public interface Ffn extends AutoCloseable {
    /** {@code out (rows, hidden) = ffn(x (rows, hidden))}. */
    void run(ExpertWeights w, float[] x, int rows, float[] out);

    String describe();

    @Override
    void close();
  }

  /** The Vector API kernel of the {@code cpu} backend on {@code threads} threads. */
  public static Ffn cpu(int threads, VectorWidth width) {
    WorkerPool pool = new WorkerPool(threads);
    // as the backend's default: a quarter of the heap for packed weights
    CpuFfn ffn = new CpuFfn(pool, SimdKernels.of(width), WeightSettings.defaults().resolve(
        Runtime.getRuntime().maxMemory()), CpuFfn.PACK_MIN_ROWS);
    return new Ffn() {
      @Override
      public void run(ExpertWeights w, float[] x, int rows, float[] out) {
        ffn.run(w, x, rows, out);
      }

      @Override
      public String describe() {
        return "cpu(threads=" + threads + ", " + width + ")";
      }

      @Override
      public void close() {
        pool.close();
      }
    };
  }

  /** The reference backend's plain loops (single thread, double accumulation). */
  public static Ffn reference() {
    return new Ffn() {
      @Override
      public void run(ExpertWeights w, float[] x, int rows, float[] out) {
        int h = w.down().rows();
        for (int r = 0; r < rows; r++) {
          System.arraycopy(ReferenceExecutor.ffn(w, x, r * h), 0, out, r * h, h);
        }
      }

      @Override
      public String describe() {
        return "reference";
      }

      @Override
      public void close() {
      }
    };
  }
}
