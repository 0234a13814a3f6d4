package io.batchgen.engine.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The compiled kernels the jar carries (written by {@code scripts/build-kernels.sh} from
 * {@code gpu-executor/src/main/cuda}): per kernel file, cubins for sm_80 and sm_90 and PTX for
 * compute_80, and {@code kernels.properties}, the manifest with the nvcc release, the flags and
 * every file's SHA-256.
 *
 * <p>Which image a device loads: its own cubin when one was built for its architecture (sm_80
 * cubins also run on 8.6 and 8.9, which are binary compatible with 8.0), else the PTX, which the
 * driver compiles for it at load (newer architectures). Devices older than 8.0 have no bf16 tensor
 * cores and are refused.
 */
final class KernelImages {
  /** Where the files lie on the classpath. */
  static final String RESOURCE_DIR = "/io/batchgen/engine/backend/cuda/";
  private final Properties manifest;

  private KernelImages(Properties manifest) {
    this.manifest = manifest;
  }

  /**
   * Reads the manifest.
   *
   * @throws IllegalStateException when the jar carries no kernels (a build without them)
   */
  static KernelImages load() {
    Properties p = new Properties();
    try (InputStream in = KernelImages.class.getResourceAsStream(RESOURCE_DIR
        + "kernels.properties")) {
      if (in == null) {
        throw new IllegalStateException("This build carries no CUDA kernels ("
            + RESOURCE_DIR + "kernels.properties is missing); run scripts/build-kernels.sh");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new KernelImages(p);
  }

  /** The manifest as written by the build script. */
  Properties manifest() {
    return manifest;
  }

  /** Kernel files named by the manifest, e.g. {@code gemm}. */
  List<String> files() {
    return Arrays.asList(manifest.getProperty("kernels", "").split(","));
  }

  /** The nvcc release that compiled the images, e.g. {@code V13.0.88}. */
  String nvccVersion() {
    return manifest.getProperty("nvcc.version");
  }

  /**
   * The name of the image a device of compute capability {@code major.minor} loads for kernel
   * file {@code file}.
   *
   * @throws IllegalArgumentException for devices older than compute capability 8.0
   */
  static String imageName(String file, int major, int minor) {
    if (major < 8) {
      throw new IllegalArgumentException("The cuda backend needs a GPU of compute capability 8.0"
          + " or newer (bf16 tensor cores), this one is " + major + "." + minor
          + "; use backend cpu");
    }
    if (major == 9 && minor == 0) {
      return file + ".sm_90.cubin";
    }
    if (major == 8) {
      return file + ".sm_80.cubin";
    }
    return file + ".compute_80.ptx";
  }

  /**
   * The bytes {@code cuModuleLoadData} takes for {@code file} on a device of compute capability
   * {@code major.minor}: a cubin as it is, or PTX text ending in a NUL byte.
   */
  byte[] image(String file, int major, int minor) {
    String name = imageName(file, major, minor);
    byte[] bytes = read(name);
    if (name.endsWith(".ptx")) {
      bytes = Arrays.copyOf(bytes, bytes.length + 1);
    }
    return bytes;
  }

  /** The bytes of one carried file. */
  static byte[] read(String name) {
    try (InputStream in = KernelImages.class.getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("CUDA kernel image " + name + " is missing from the jar;"
            + " run scripts/build-kernels.sh");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The PTX text of {@code file}. */
  static String ptx(String file) {
    return new String(read(file + ".compute_80.ptx"), StandardCharsets.US_ASCII);
  }
}
