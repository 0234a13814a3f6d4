package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.cuda.CudaBackend;
import io.batchgen.engine.backend.cuda.CudaProbe;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code auto} picks, the line it logs, and {@code cuda} where there is no GPU. */
class AutoBackendTest {
  static final CudaProbe NONE = new CudaProbe(false, "no CUDA driver could be loaded"
      + " (libcuda.so.1: cannot open shared object file: No such file or directory)", List.of(),
      0);
  static final CudaProbe H200 = new CudaProbe(true, "1 GPU(s)", List.of(
      new CudaProbe.Device(0, "NVIDIA H200", 9, 0, 141L << 30)), 13000);

  @Test
  void withoutAGpuAutoPicksCpuAndSaysWhy() {
    Backends.AutoChoice c = Backends.chooseAuto(NONE, 2, VectorWidth.W256, Backends.DEFAULT_GPU);
    assertThat(c.backend()).isEqualTo("cpu");
    assertThat(c.line()).isEqualTo("Backend auto: using cpu with 2 threads, 256-bit vectors: cuda"
        + " is not available (no CUDA driver could be loaded (libcuda.so.1: cannot open shared"
        + " object file: No such file or directory))");
  }

  @Test
  void withAUsableGpuAutoPicksCudaOnTheBoundDevice() {
    Backends.AutoChoice c = Backends.chooseAuto(H200, 2, VectorWidth.W256, 0);
    assertThat(c.backend()).isEqualTo("cuda");
    assertThat(c.line()).startsWith("Backend auto: using cuda on cuda:0 NVIDIA H200 (sm_90");
    Backends.AutoChoice other = Backends.chooseAuto(H200, 2, VectorWidth.W256, 3);
    assertThat(other.backend()).isEqualTo("cpu");
    assertThat(other.line()).contains("GPU 3 is not a usable CUDA device");
  }

  @Test
  void cudaIsAcceptedAndFailsClearlyWithoutAGpu(@TempDir Path tmp) {
    assertThat(Backends.names()).contains("cuda", "auto");
    org.junit.jupiter.api.Assumptions.assumeFalse(CudaBackend.probe().available(),
        "this machine has a GPU: the cuda backend starts (CudaEquivalenceTest covers it)");
    Path dir = TinyModels.write("tiny", "mixtral", "bf16", 3, tmp.resolve("m"));
    try (LoadedModel m = ModelLoader.load(dir)) {
      assertThatThrownBy(() -> Backends.create("cuda", m, 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("Backend cuda is not available: ")
          .hasMessageContaining(CudaBackend.probe().reason())
          .hasMessageEndingWith("Use backend cpu (or auto, which falls back to it).");
      try (ModuleExecutor auto = Backends.create("auto", m, 1)) {
        assertThat(auto.describe()).startsWith("cpu(");
      }
    }
  }
}
