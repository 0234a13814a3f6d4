package io.batchgen.engine.forward;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.backend.VectorWidth;
import io.batchgen.engine.backend.cuda.GpuAssumptions;
import io.batchgen.engine.model.LoadedModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link BatchInvarianceTest} for the cuda backend: a sequence's logits are bitwise identical
 * alone, in a batch of 32 mixed sequences, decoded token by token, and on a second executor
 * (the width and thread parameters mean nothing to it). Skipped, with the reason, without a
 * usable GPU.
 */
@Tag("gpu")
class CudaBatchInvarianceTest extends BatchInvarianceTest {

  @BeforeEach
  void needsGpu() {
    GpuAssumptions.assumeGpu();
  }

  @Override
  ModuleExecutor create(LoadedModel m, int threads, VectorWidth width) {
    return Backends.create("cuda", m, threads, width);
  }
}
