package io.batchgen.engine.backend.cuda;

import io.batchgen.engine.backend.cuda.CudaDevice.Args;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import jcuda.driver.CUdeviceptr;

/**
 * {@code GemmBench}: the cuda backend's grouped expert GEMM ({@code grouped_gemm_bf16}) in
 * TFLOP/s on MoE shapes, timed with CUDA events, in its two modes: {@code bf16} (activations
 * rounded to bf16, one tensor-core pass: the same arithmetic as a bf16 {@code torch.matmul}) and
 * {@code split} (activations as bf16 hi + lo, two passes: what the backend runs). One line per
 * (shape, mode):
 *
 * <pre>gemm shape=E8xM512xN14336xK4096 mode=bf16 ms=1.234 tflops=456.7</pre>
 *
 * where each of E experts multiplies its own M rows of width K by its own (N, K) weights, FLOPs
 * = 2 * E * M * N * K. {@code scripts/gpu-check.sh} runs {@code torch.matmul} on the same
 * shapes and prints the ratio. Without a usable GPU it prints why and exits with status 2.
 *
 * <p>Usage: {@code GemmBench [EXMxNxK ...]} (default: the {@code bench} model's expert shapes
 * at decode and prefill batch sizes, and Mixtral 8x7B's).
 */
public final class GemmBench {
  /** Default shapes: bench model gate/up and down at 64 and 512 rows per expert; Mixtral's. */
  static final List<String> DEFAULT_SHAPES = List.of("16x64x1024x512", "16x512x1024x512",
      "16x512x512x1024", "8x512x14336x4096", "8x512x4096x14336");

  private GemmBench() {
  }

  /** One shape: {@code experts} groups of {@code rows} rows, weights {@code (n, k)}. */
  record Shape(int experts, int rows, int n, int k) {
    static Shape parse(String s) {
      String[] p = s.toLowerCase(Locale.ROOT).split("x");
      if (p.length != 4) {
        throw new IllegalArgumentException("Shape [" + s
            + "] is not EXMxNxK, e.g. 8x512x14336x4096");
      }
      return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]),
          Integer.parseInt(p[3]));
    }

    double flops() {
      return 2.0 * experts * rows * n * k;
    }

    @Override
    public String toString() {
      return "E" + experts + "xM" + rows + "xN" + n + "xK" + k;
    }
  }

  public static void main(String[] args) {
    List<Shape> shapes = new ArrayList<>();
    for (String s : args.length == 0 ? DEFAULT_SHAPES : List.of(args)) {
      shapes.add(Shape.parse(s));
    }
    System.exit(run(shapes, System.out));
  }

  static int run(List<Shape> shapes, PrintStream out) {
    CudaProbe probe = CudaProbe.get();
    if (!probe.available()) {
      out.println("gemm: skipped reason=" + probe.reason());
      return 2;
    }
    CudaProbe.Device d = probe.devices().get(0);
    out.println("gemm: device=" + d);
    try (CudaDevice dev = new CudaDevice(d, KernelImages.load())) {
      for (Shape s : shapes) {
        float[] ms = time(dev, s);
        for (int mode = 0; mode < 2; mode++) {
          out.printf(Locale.ROOT, "gemm shape=%s mode=%s ms=%.4f tflops=%.1f%n", s,
              mode == 1 ? "split" : "bf16", ms[mode], s.flops() / (ms[mode] * 1e-3) / 1e12);
          out.flush();
        }
      }
    }
    return 0;
  }

  /** Milliseconds per launch of {@code s}: {bf16 mode, split mode}. */
  private static float[] time(CudaDevice dev, Shape s) {
    SplittableRandom r = new SplittableRandom(7);
    int totalRows = s.experts() * s.rows();
    float[] w = new float[s.n() * s.k()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextDouble() - 0.5) * 0.05f;
    }
    Bf16Planes planes = Bf16Planes.of(w, s.n(), s.k(), false);
    long plane = 2L * s.n() * s.k();
    CUdeviceptr weights = dev.alloc(plane * s.experts(), "bench weights");
    for (int e = 0; e < s.experts(); e++) {
      dev.upload(weights.withByteOffset(e * plane), planes.hi());
    }
    float[] x = new float[totalRows * s.k()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() - 0.5);
    }
    CUdeviceptr dx = dev.alloc(4L * x.length, "bench input");
    dev.upload(dx, x, 0, x.length);
    CUdeviceptr dy = dev.alloc(4L * totalRows * s.n(), "bench output");
    int[] ids = new int[s.experts()];
    int[] rows = new int[s.experts()];
    for (int e = 0; e < ids.length; e++) {
      ids[e] = e;
      rows[e] = s.rows();
    }
    int[] tileList = GemmTiles.of(ids, rows);
    CUdeviceptr tiles = dev.alloc(4L * tileList.length, "bench tiles");
    dev.upload(tiles, tileList, tileList.length);
    float[] ms = new float[2];
    try {
      for (int mode = 0; mode < 2; mode++) {
        Args args = new Args().ptr(dx).i32(s.k()).ptr(weights).ptr(null).i32(mode)
            .ptr(tiles).i32(s.n()).i32(s.k()).ptr(dy).i32(s.n());
        ms[mode] = dev.timeMillis(() -> dev.launch(Kernel.GROUPED_GEMM_BF16,
            GemmTiles.columnBlocks(s.n()), tileList.length / 4, args), 3, 10);
      }
      return ms;
    } finally {
      dev.free(weights, plane * s.experts());
      dev.free(dx, 4L * x.length);
      dev.free(dy, 4L * totalRows * s.n());
      dev.free(tiles, 4L * tileList.length);
    }
  }
}
