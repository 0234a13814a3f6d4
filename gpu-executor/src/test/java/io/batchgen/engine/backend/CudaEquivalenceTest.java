package io.batchgen.engine.backend;

import io.batchgen.engine.backend.cuda.GpuAssumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link BackendEquivalenceTest} for the cuda backend: every op and whole-model logits of every
 * architecture and dtype against the reference, its grouped expert launch against single
 * launches bit for bit, its device argmax against the host Sampler. Skipped, with the reason,
 * without a usable GPU; {@code scripts/gpu-check.sh} runs it on one.
 */
@Tag("gpu")
class CudaEquivalenceTest extends BackendEquivalenceTest {

  @BeforeEach
  void needsGpu() {
    GpuAssumptions.assumeGpu();
  }

  @Override
  String backend() {
    return "cuda";
  }
}
