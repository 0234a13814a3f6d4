package io.batchgen.engine.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips a GPU test, with the probe's reason, where no usable GPU is there. */
public final class GpuAssumptions {
  private GpuAssumptions() {
  }

  /** Aborts the calling test (skipped, not failed) unless the cuda backend can run here. */
  public static void assumeGpu() {
    CudaProbe p = CudaProbe.get();
    assumeTrue(p.available(), () -> "no usable GPU for the cuda backend: " + p.reason());
  }
}
