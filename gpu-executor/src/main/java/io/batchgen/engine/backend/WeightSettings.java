package io.batchgen.engine.backend;

/**
 * How a backend holds the model's weights: the byte budget of its resident tier of
 * compute-ready weights, and how it streams what does not fit.
 *
 * <p>The budget counts <em>compute-ready</em> bytes, the form the kernels read: on the cpu
 * backend BF16 weights stay BF16 (about the checkpoint's bytes), every other type becomes f32
 * panels (2x the checkpoint for F16, about 3.8x for Q8_0, 1x for F32), all padded to whole panels
 * of output columns. The token embedding is not in it (rows are looked up in the mapped file).
 * When the whole model fits, every matrix is packed once and stays; when it does not, matrices
 * are brought in from the checkpoint file as modules need them and evicted to make room.
 *
 * @param budgetBytes    resident budget in bytes; 0 means {@code heapFraction} of the max heap
 * @param heapFraction   used when {@code budgetBytes} is 0: a fraction in (0, 1] of the heap
 * @param streaming      how weights that do not fit are brought in
 */
public record WeightSettings(long budgetBytes, double heapFraction, Streaming streaming) {

  /** How a constrained store brings weights in. */
  public enum Streaming {
    /**
     * Module by module, as the runtime's wait queues ask for them, overlapped with compute by a
     * loader thread (the memory-constrained mode of module-based batching). The default.
     */
    MODULE,
    /**
     * The layer-wise baseline (FlexGen / ZeRO-Inference style): every layer's weights are
     * brought in whole when the layer runs, experts that no row routed to included, on the
     * calling thread; nothing is prefetched.
     */
    LAYER
  }

  public WeightSettings {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("Weight budget must be >= 0 bytes, got " + budgetBytes);
    }
    if (budgetBytes == 0 && !(heapFraction > 0 && heapFraction <= 1)) {
      throw new IllegalArgumentException("Weight budget heap fraction must be in (0, 1], got "
          + heapFraction);
    }
    if (streaming == null) {
      throw new IllegalArgumentException("Weight streaming mode must be set");
    }
  }

  /** A quarter of the max heap, module streaming: what the cpu backend used before budgets. */
  public static WeightSettings defaults() {
    return new WeightSettings(0, 0.25, Streaming.MODULE);
  }

  /** A budget of {@code bytes} compute-ready bytes. */
  public static WeightSettings ofBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("Weight budget must be positive, got " + bytes);
    }
    return new WeightSettings(bytes, 0, Streaming.MODULE);
  }

  /** A budget of {@code fraction} of the max heap. */
  public static WeightSettings ofHeapFraction(double fraction) {
    return new WeightSettings(0, fraction, Streaming.MODULE);
  }

  public WeightSettings withStreaming(Streaming s) {
    return new WeightSettings(budgetBytes, heapFraction, s);
  }

  /** The budget in bytes on a JVM whose max heap is {@code maxHeapBytes}. */
  public long resolve(long maxHeapBytes) {
    return budgetBytes > 0 ? budgetBytes : (long) (heapFraction * maxHeapBytes);
  }

  @Override
  public String toString() {
    return (budgetBytes > 0 ? budgetBytes + " bytes" : heapFraction + " of the heap")
        + ", " + streaming.name().toLowerCase(java.util.Locale.ROOT) + " streaming";
  }
}
