package io.batchgen.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the probe turns each way CUDA can be missing into an answer with a reason. */
class CudaProbeTest {

  @Test
  void aMissingDriverLibraryIsAnAnswerNotAnError() {
    // the shape of JCuda's message: its own library first, the system's reason further down
    CudaProbe p = CudaProbe.run(() -> {
      throw new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver\"\n"
          + "java.lang.UnsatisfiedLinkError: no JCudaDriver in java.library.path: /usr/lib\n"
          + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open"
          + " shared object file: No such file or directory\n\tat jcuda.LibUtils");
    });
    assertThat(p.available()).isFalse();
    assertThat(p.reason()).isEqualTo("no CUDA driver could be loaded (libcuda.so.1: cannot"
        + " open shared object file: No such file or directory)");
    assertThat(p.devices()).isEmpty();
  }

  @Test
  void aDriverErrorIsAnAnswerNotAnError() {
    CudaProbe p = CudaProbe.run(() -> {
      throw new jcuda.CudaException("CUDA_ERROR_NO_DEVICE\nmore");
    });
    assertThat(p.available()).isFalse();
    assertThat(p.reason()).isEqualTo(
        "the CUDA driver failed to initialise (CUDA_ERROR_NO_DEVICE)");
  }

  @Test
  void devicesOlderThanAmpereAreNotUsable() {
    CudaProbe.Device t4 = new CudaProbe.Device(0, "Tesla T4", 7, 5, 16L << 30);
    CudaProbe.Device h200 = new CudaProbe.Device(1, "NVIDIA H200", 9, 0, 141L << 30);
    CudaProbe old = CudaProbe.run(() -> new CudaProbe(true, "", List.of(t4), 13000));
    assertThat(old.available()).isFalse();
    assertThat(old.reason()).contains("compute capability 8.0").contains("Tesla T4");
    CudaProbe both = CudaProbe.run(() -> new CudaProbe(true, "", List.of(t4, h200), 13000));
    assertThat(both.available()).isTrue();
    assertThat(both.devices()).containsExactly(h200);
    assertThat(both.device(1)).isEqualTo(h200);
    assertThat(both.reason()).contains("cuda:1 NVIDIA H200 (sm_90, 141 GiB)").contains("13000");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> both.device(0))
        .hasMessageContaining("No usable CUDA device 0");
  }

  /** On a machine without a driver (CI), the real probe says so, and says it the same twice. */
  @Test
  void theRealProbeAnswersOnceAndKeepsIt() {
    CudaProbe p = CudaProbe.get();
    assertThat(CudaProbe.get()).isSameAs(p);
    if (!p.available()) {
      assertThat(p.reason()).isNotBlank();
    } else {
      assertThat(p.devices()).isNotEmpty().allMatch(CudaProbe.Device::supported);
    }
  }
}
