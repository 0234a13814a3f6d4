package io.batchgen.engine.backend.cuda;

/**
 * The device functions the cuda backend launches, with the kernel file ({@code
 * src/main/cuda/<file>.cu}) that defines each. {@link KernelImages} loads one module per file;
 * KernelArtifactsTest checks that every entry here is an {@code .entry} of its file's PTX.
 */
enum Kernel {
  GROUPED_GEMM_BF16("gemm", "grouped_gemm_bf16"),
  QKV_PREPARE("attention", "qkv_prepare"),
  ATTENTION_PAGED("attention", "attention_paged"),
  RMS_NORM("norm", "rms_norm"),
  ADD_INPLACE("norm", "add_inplace"),
  SILU_MUL("norm", "silu_mul"),
  SIGMOID_GATE("norm", "sigmoid_gate"),
  ROUTER_TOPK("norm", "router_topk"),
  ARGMAX_ROWS("sampling", "argmax_rows");

  /** Threads per block of every kernel (BG_THREADS in common.cuh). */
  static final int THREADS = 128;

  private final String file;
  private final String symbol;

  Kernel(String file, String symbol) {
    this.file = file;
    this.symbol = symbol;
  }

  /** The kernel file (without {@code .cu}) whose module holds this function. */
  String file() {
    return file;
  }

  /** The {@code extern "C"} name of the function. */
  String symbol() {
    return symbol;
  }
}
