package io.batchgen.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compiled kernels the jar carries against their sources: the manifest's source hashes
 * against src/main/cuda (everywhere: a kernel edited without {@code scripts/build-kernels.sh}
 * fails here), every carried file against its manifest hash, the PTX declaring every function
 * the backend launches, and, where the same nvcc release is installed, a fresh compile giving
 * the same bytes.
 */
class KernelArtifactsTest {
  static final Path SOURCES = Path.of("src/main/cuda");
  static final Path SCRIPT = Path.of("../scripts/build-kernels.sh");

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static Properties manifest() {
    return KernelImages.load().manifest();
  }

  @Test
  void theManifestMatchesTheKernelSources() throws IOException {
    TreeMap<String, String> actual = new TreeMap<>();
    try (Stream<Path> files = Files.list(SOURCES)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".cu") || name.endsWith(".cuh")) {
          actual.put(name, sha256(Files.readAllBytes(f)));
        }
      }
    }
    TreeMap<String, String> recorded = new TreeMap<>();
    manifest().forEach((k, v) -> {
      if (k.toString().startsWith("source.")) {
        recorded.put(k.toString().substring("source.".length()), v.toString());
      }
    });
    assertThat(actual).as("kernel sources vs kernels.properties: a kernel changed without"
        + " regenerating its PTX/cubins; run scripts/build-kernels.sh").isEqualTo(recorded);
  }

  @Test
  void everyCarriedImageMatchesItsManifestHash() {
    Properties m = manifest();
    assertThat(KernelImages.load().files()).containsExactlyInAnyOrder("attention", "gemm",
        "norm", "sampling");
    int outputs = 0;
    for (String key : m.stringPropertyNames()) {
      if (key.startsWith("output.")) {
        String name = key.substring("output.".length());
        assertThat(sha256(KernelImages.read(name))).as(name).isEqualTo(m.getProperty(key));
        outputs++;
      }
    }
    assertThat(outputs).isEqualTo(3 * KernelImages.load().files().size());
  }

  @Test
  void ptxDeclaresEveryKernelTheBackendLaunches() {
    for (Kernel k : Kernel.values()) {
      String ptx = KernelImages.ptx(k.file());
      assertThat(ptx).as(k.file() + ".ptx").contains(".target sm_80")
          .contains(".visible .entry " + k.symbol() + "(");
    }
    assertThat(KernelImages.ptx("gemm")).as("tensor-core GEMM").contains("wmma.mma.sync");
  }

  /** The launch geometry the host plans with is the one the kernels were written for. */
  @Test
  void hostConstantsMatchTheKernels() throws IOException {
    String common = Files.readString(SOURCES.resolve("common.cuh"));
    String gemm = Files.readString(SOURCES.resolve("gemm.cu"));
    assertThat(common).contains("#define BG_THREADS " + Kernel.THREADS + "\n");
    assertThat(gemm).contains("#define BM " + GemmTiles.TILE_ROWS + "\n")
        .contains("#define BN " + GemmTiles.TILE_COLS + "\n");
    assertThat(Files.readString(SOURCES.resolve("attention.cu")))
        .contains("#define BG_MAX_HEAD_DIM " + CudaExecutor.MAX_HEAD_DIM + "\n");
  }

  @Test
  void cubinsAreElfImagesHoldingEveryKernel() {
    for (Kernel k : Kernel.values()) {
      for (String arch : List.of("sm_80", "sm_90")) {
        byte[] cubin = KernelImages.read(k.file() + "." + arch + ".cubin");
        assertThat(new String(cubin, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("ELF");
        assertThat(new String(cubin, StandardCharsets.ISO_8859_1)).as(k + " in " + arch)
            .contains(k.symbol());
      }
    }
  }

  @Test
  void eachDeviceLoadsTheImageBuiltForIt() {
    assertThat(KernelImages.imageName("gemm", 9, 0)).isEqualTo("gemm.sm_90.cubin");
    assertThat(KernelImages.imageName("gemm", 8, 0)).isEqualTo("gemm.sm_80.cubin");
    assertThat(KernelImages.imageName("gemm", 8, 6)).isEqualTo("gemm.sm_80.cubin");
    assertThat(KernelImages.imageName("gemm", 8, 9)).isEqualTo("gemm.sm_80.cubin");
    assertThat(KernelImages.imageName("gemm", 10, 0)).isEqualTo("gemm.compute_80.ptx");
    assertThat(KernelImages.imageName("gemm", 12, 0)).isEqualTo("gemm.compute_80.ptx");
    assertThatThrownBy(() -> KernelImages.imageName("gemm", 7, 5))
        .hasMessageContaining("compute capability 8.0").hasMessageContaining("7.5")
        .hasMessageContaining("backend cpu");
    byte[] ptx = KernelImages.load().image("norm", 12, 0);
    assertThat(ptx[ptx.length - 1]).as("PTX for cuModuleLoadData ends in NUL").isZero();
  }

  /** Where this nvcc release is installed: recompiling gives the carried bytes exactly. */
  @Test
  void recompilingWithNvccGivesTheCarriedBytes(@TempDir Path out) throws Exception {
    String version = nvccVersion();
    assumeTrue(version != null, "nvcc is not on the PATH: the carried kernels are checked"
        + " against their source hashes only");
    assumeTrue(version.equals(KernelImages.load().nvccVersion()), "nvcc here is " + version
        + ", the kernels were compiled with " + KernelImages.load().nvccVersion()
        + ": byte comparison needs the same release");
    Process p = new ProcessBuilder("bash", SCRIPT.toString(), "--out", out.toString())
        .redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("build-kernels.sh finished").isTrue();
    assertThat(p.exitValue()).as(log).isZero();
    try (Stream<Path> files = Files.list(out)) {
      List<Path> built = files.toList();
      assertThat(built).hasSize(3 * KernelImages.load().files().size() + 1);
      for (Path f : built) {
        String name = f.getFileName().toString();
        assertThat(Files.readAllBytes(f)).as(name + " recompiled vs carried; run"
            + " scripts/build-kernels.sh").isEqualTo(KernelImages.read(name));
      }
    }
  }

  /** {@code V13.0.88} for nvcc 13.0, or null when there is no nvcc. */
  static String nvccVersion() {
    try {
      Process p = new ProcessBuilder("nvcc", "--version").redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
        return null;
      }
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("release [0-9.]+, (V[0-9.]+)")
          .matcher(text);
      return m.find() ? m.group(1) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
