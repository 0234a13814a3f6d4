package io.batchgen.spark.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.engine.backend.Backends;
import org.junit.jupiter.api.Test;

/** The GPU Spark gives an executor becomes the CUDA device its runtimes bind to. */
class GpuBindingTest {

  @Test
  void aDeviceOrdinalBindsTheRuntimes() {
    assertThat(new ExecutorRuntime(2, 1L << 30, "1").gpu()).isEqualTo(1);
    assertThat(new ExecutorRuntime(2, 1L << 30, " 0 ").gpu()).isZero();
  }

  @Test
  void noGpuMeansTheDefaultDevice() {
    assertThat(new ExecutorRuntime(2, 1L << 30).gpu()).isEqualTo(Backends.DEFAULT_GPU);
    assertThat(new ExecutorRuntime(2, 1L << 30, null).gpu()).isEqualTo(Backends.DEFAULT_GPU);
  }

  @Test
  void anAddressThatIsNoOrdinalFailsWithTheFix() {
    assertThatThrownBy(() -> new ExecutorRuntime(2, 1L << 30, "GPU-3f2a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GPU address [GPU-3f2a]")
        .hasMessageContaining("spark.executor.resource.gpu.discoveryScript");
    assertThatThrownBy(() -> new ExecutorRuntime(2, 1L << 30, "-1"))
        .hasMessageContaining("not a CUDA device ordinal");
  }
}
